-- 0002: the editions' weekly newsletters: subscribers (double opt-in),
-- issues (one per edition and week) and deliveries (one per issue and
-- subscriber, which is what makes sending exactly-once).

CREATE TABLE newsletter_subscribers (
	id                INTEGER PRIMARY KEY,
	edition           TEXT    NOT NULL REFERENCES editions (code),
	email             TEXT    NOT NULL,
	name              TEXT    NOT NULL DEFAULT '',
	status            TEXT    NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')),
	source            TEXT    NOT NULL DEFAULT '',
	confirm_hash      BLOB,
	confirm_sent_at   INTEGER NOT NULL DEFAULT 0,
	unsubscribe_token TEXT    NOT NULL UNIQUE,
	created_at        INTEGER NOT NULL,
	confirmed_at      INTEGER,
	unsubscribed_at   INTEGER,
	bounced_at        INTEGER,
	bounce_reason     TEXT    NOT NULL DEFAULT '',
	UNIQUE (edition, email)
);
CREATE UNIQUE INDEX newsletter_subscribers_confirm ON newsletter_subscribers (confirm_hash) WHERE confirm_hash IS NOT NULL;
CREATE INDEX newsletter_subscribers_edition_status ON newsletter_subscribers (edition, status);

CREATE TABLE newsletter_issues (
	id          INTEGER PRIMARY KEY,
	edition     TEXT    NOT NULL REFERENCES editions (code),
	week        TEXT    NOT NULL,
	since       INTEGER NOT NULL,
	until       INTEGER NOT NULL,
	article_ids TEXT    NOT NULL, -- JSON array, newest first
	created_at  INTEGER NOT NULL,
	lock_owner  TEXT    NOT NULL DEFAULT '',
	lock_until  INTEGER NOT NULL DEFAULT 0,
	UNIQUE (edition, week)
);

CREATE TABLE newsletter_deliveries (
	id              INTEGER PRIMARY KEY,
	issue_id        INTEGER NOT NULL REFERENCES newsletter_issues (id) ON DELETE CASCADE,
	subscriber_id   INTEGER NOT NULL REFERENCES newsletter_subscribers (id) ON DELETE CASCADE,
	status          TEXT    NOT NULL CHECK (status IN ('pending', 'committing', 'sent', 'failed', 'unknown', 'skipped')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	sent_at         INTEGER,
	UNIQUE (issue_id, subscriber_id)
);
CREATE INDEX newsletter_deliveries_due ON newsletter_deliveries (issue_id, status, id);
