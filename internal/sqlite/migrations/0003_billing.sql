-- 0003: seats by invitation and by company domain, and what online billing
-- must remember: each account's customer at a payment provider, and every
-- webhook event handled (so a replayed or late event changes nothing twice).

-- A single-use, expiring link to take a seat. kind 'invite': the owner
-- invited an address; 'domain': a reader confirms an address at a company
-- domain. Only the token's SHA-256 is kept.
CREATE TABLE invitations (
	id              INTEGER PRIMARY KEY,
	token_hash      BLOB    NOT NULL UNIQUE,
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
	kind            TEXT    NOT NULL CHECK (kind IN ('invite', 'domain')),
	email           TEXT    NOT NULL,
	invited_by      INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	accepted_at     INTEGER,
	accepted_by     INTEGER REFERENCES accounts (id) ON DELETE SET NULL
);
CREATE INDEX invitations_subscription ON invitations (subscription_id, expires_at);

-- A company's email domains: anyone with a verified address there may join.
CREATE TABLE subscription_domains (
	domain          TEXT    PRIMARY KEY,
	subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE
);
CREATE INDEX subscription_domains_subscription ON subscription_domains (subscription_id);

CREATE TABLE billing_customers (
	account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	provider     TEXT    NOT NULL,
	customer_ref TEXT    NOT NULL,
	PRIMARY KEY (account_id, provider)
);
CREATE UNIQUE INDEX billing_customers_ref ON billing_customers (provider, customer_ref);

CREATE TABLE billing_events (
	provider         TEXT    NOT NULL,
	event_id         TEXT    NOT NULL,
	kind             TEXT    NOT NULL,
	subscription_ref TEXT    NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	handled_at       INTEGER NOT NULL,
	PRIMARY KEY (provider, event_id)
);
CREATE INDEX billing_events_subscription ON billing_events (provider, subscription_ref, created_at);
