-- 0004: the event log. One table for everything that happened, read by
-- webhooks (as their outbox), the console's account timeline, insights and
-- a reader's data export. account_id and actor_id are plain values, not
-- references, so anonymous events survive a deleted account.
CREATE TABLE events (
	id         INTEGER PRIMARY KEY,
	type       TEXT    NOT NULL,
	account_id INTEGER NOT NULL DEFAULT 0,
	actor_id   INTEGER NOT NULL DEFAULT 0,
	data       TEXT    NOT NULL DEFAULT '{}',
	at         INTEGER NOT NULL
);
CREATE INDEX events_account ON events (account_id, id);
CREATE INDEX events_type_at ON events (type, at);
CREATE INDEX events_at ON events (at);
