-- 0006: publisher integration (issue 12).
--
-- Webhooks. The event log (0004) is the outbox: the transaction that
-- writes an event also writes one webhook_messages row for every enabled
-- endpoint that wants its type, so a change and its deliveries commit
-- together. A worker delivers each endpoint's messages in id order, one at
-- a time (lock_owner/lock_until make one node at a time the endpoint's
-- deliverer), and logs every attempt in webhook_attempts.
CREATE TABLE webhook_endpoints (
	id            INTEGER PRIMARY KEY,
	url           TEXT    NOT NULL,
	secret        TEXT    NOT NULL,
	events        TEXT    NOT NULL DEFAULT '',
	enabled       INTEGER NOT NULL DEFAULT 1,
	created_at    INTEGER NOT NULL,
	failing_since INTEGER,
	disabled_at   INTEGER,
	lock_owner    TEXT    NOT NULL DEFAULT '',
	lock_until    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE webhook_messages (
	id              INTEGER PRIMARY KEY,
	endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	event_id        INTEGER NOT NULL,
	msg_id          TEXT    NOT NULL,
	type            TEXT    NOT NULL,
	body            TEXT    NOT NULL,
	status          TEXT    NOT NULL DEFAULT 'pending',
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	created_at      INTEGER NOT NULL,
	done_at         INTEGER
);
CREATE INDEX webhook_messages_endpoint ON webhook_messages (endpoint_id, status, id);
CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY,
	message_id  INTEGER NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
	endpoint_id INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT    NOT NULL DEFAULT '',
	duration_ms INTEGER NOT NULL DEFAULT 0,
	worker      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_message ON webhook_attempts (message_id, id);

-- Entitlement signing keys, shared by every node: the first node that
-- needs one generates it. A retired key stays published until its tokens
-- have expired, so a rollover needs no downtime.
CREATE TABLE signing_keys (
	kid         TEXT    PRIMARY KEY,
	alg         TEXT    NOT NULL,
	private_key BLOB    NOT NULL,
	created_at  INTEGER NOT NULL,
	retired_at  INTEGER
);
