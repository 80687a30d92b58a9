-- 0001: accounts, sessions, editions and articles, subscriptions and seats,
-- lease events and the registered meter.
--
-- Times are INTEGER nanoseconds since the Unix epoch, UTC. 0 stands for the
-- zero time where a column is NOT NULL; NULL for "never" where it may be.

CREATE TABLE accounts (
	id                  INTEGER PRIMARY KEY,
	email               TEXT    NOT NULL UNIQUE,
	name                TEXT    NOT NULL DEFAULT '',
	password_hash       TEXT    NOT NULL,
	role                TEXT    NOT NULL,
	lang                TEXT    NOT NULL,
	email_verified_at   INTEGER,
	password_changed_at INTEGER NOT NULL,
	created_at          INTEGER NOT NULL
);

CREATE TABLE devices (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	id         TEXT    NOT NULL,
	name       TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT '',
	place      TEXT    NOT NULL DEFAULT '',
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	token_hash   BLOB    NOT NULL UNIQUE,
	account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	device_id    TEXT    NOT NULL,
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL,
	idle_expiry  INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_account_device ON sessions (account_id, device_id);

CREATE TABLE password_resets (
	token_hash BLOB    PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- Failed sign-ins (and reset requests) by key: "signin:account:7", "signin:ip:…".
CREATE TABLE failed_sign_ins (
	id  INTEGER PRIMARY KEY,
	key TEXT    NOT NULL,
	at  INTEGER NOT NULL
);
CREATE INDEX failed_sign_ins_key_at ON failed_sign_ins (key, at);
CREATE INDEX failed_sign_ins_at ON failed_sign_ins (at);

CREATE TABLE editions (
	code     TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	lang     TEXT NOT NULL,
	timezone TEXT NOT NULL DEFAULT ''
);

CREATE TABLE articles (
	id           TEXT    PRIMARY KEY,
	edition      TEXT    NOT NULL REFERENCES editions (code),
	title        TEXT    NOT NULL,
	standfirst   TEXT    NOT NULL DEFAULT '',
	author       TEXT    NOT NULL DEFAULT '',
	body         TEXT    NOT NULL DEFAULT '[]', -- JSON array of paragraphs
	access       TEXT    NOT NULL,
	published_at INTEGER NOT NULL
);
CREATE INDEX articles_edition_published ON articles (edition, published_at);
CREATE INDEX articles_published ON articles (published_at);

CREATE TABLE subscriptions (
	id                   INTEGER PRIMARY KEY,
	owner_id             INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	plan_code            TEXT    NOT NULL,
	status               TEXT    NOT NULL,
	seats                INTEGER NOT NULL,
	price_cents          INTEGER NOT NULL,
	currency             TEXT    NOT NULL DEFAULT '',
	provider             TEXT    NOT NULL DEFAULT '',
	provider_ref         TEXT    NOT NULL DEFAULT '',
	current_period_end   INTEGER NOT NULL DEFAULT 0,
	cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
	created_at           INTEGER NOT NULL
);
CREATE INDEX subscriptions_owner ON subscriptions (owner_id);
-- A payment provider's subscription maps to one of ours (idempotent webhooks).
CREATE UNIQUE INDEX subscriptions_provider_ref ON subscriptions (provider, provider_ref) WHERE provider_ref <> '';

CREATE TABLE seats (
	id              INTEGER PRIMARY KEY,
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	account_id      INTEGER REFERENCES accounts (id) ON DELETE SET NULL, -- NULL: free
	position        INTEGER NOT NULL,
	sharing_warning INTEGER,
	assigned_at     INTEGER,
	UNIQUE (subscription_id, position),
	-- One seat per account and subscription; free seats (NULL) do not clash.
	UNIQUE (subscription_id, account_id)
);
CREATE INDEX seats_account ON seats (account_id);
CREATE INDEX seats_warned ON seats (sharing_warning) WHERE sharing_warning IS NOT NULL;

-- Lease events: seat, account and devices are plain values, not references,
-- so analytics survive deleted rows.
CREATE TABLE lease_events (
	id           INTEGER PRIMARY KEY,
	kind         TEXT    NOT NULL,
	seat_id      INTEGER NOT NULL DEFAULT 0,
	account_id   INTEGER NOT NULL DEFAULT 0,
	device       TEXT    NOT NULL DEFAULT '',
	other_device TEXT    NOT NULL DEFAULT '',
	reason       TEXT    NOT NULL DEFAULT '',
	at           INTEGER NOT NULL
);
CREATE INDEX lease_events_at ON lease_events (at);
CREATE INDEX lease_events_seat_at ON lease_events (seat_id, at);
CREATE INDEX lease_events_account_at ON lease_events (account_id, at);

-- Free articles a registered account opened, per calendar month ("2026-11").
CREATE TABLE metered_reads (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	month      TEXT    NOT NULL,
	article_id TEXT    NOT NULL,
	PRIMARY KEY (account_id, month, article_id)
);
