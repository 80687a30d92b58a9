-- 0007: the publisher console. Plans live in the database so every node
-- reads the same catalogue; indexes make the accounts search, the account
-- timeline and the insights fast at millions of rows.

-- names is a JSON object, language -> name. Times are nanoseconds, as in 0001.
CREATE TABLE plans (
	code             TEXT    PRIMARY KEY,
	names            TEXT    NOT NULL,
	price_cents      INTEGER NOT NULL,
	currency         TEXT    NOT NULL,
	period           TEXT    NOT NULL,
	seats            INTEGER NOT NULL,
	readers_per_seat INTEGER NOT NULL,
	meter            INTEGER NOT NULL,
	seats_per_unit   INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);

-- One-off facts of the installation, e.g. "plans_imported" once plans.json
-- has been read into the plans table.
CREATE TABLE console_marks (
	name TEXT    PRIMARY KEY,
	at   INTEGER NOT NULL
);

-- Search by name prefix, case folded (email has its UNIQUE index already).
CREATE INDEX accounts_name_lower ON accounts (lower(name), id);
-- The account timeline reads an account's events newest first.
CREATE INDEX events_account_at ON events (account_id, at);
-- Insights count lease events of one kind per day; the index covers the
-- columns they read, so a month of events is read from the index alone.
CREATE INDEX lease_events_kind_at ON lease_events (kind, at, seat_id, account_id);
-- Insights count sign-ups and subscriptions started per day.
CREATE INDEX accounts_created ON accounts (created_at);
CREATE INDEX subscriptions_created ON subscriptions (created_at);
