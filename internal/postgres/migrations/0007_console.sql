-- 0007: the publisher console, the same tables and columns as SQLite's 0007.
-- Plans live in the database so every node reads the same catalogue;
-- indexes make the accounts search, the account timeline and the insights
-- fast at millions of rows.

CREATE TABLE plans (
	code             TEXT    PRIMARY KEY,
	names            TEXT    NOT NULL,
	price_cents      BIGINT  NOT NULL,
	currency         TEXT    NOT NULL,
	period           TEXT    NOT NULL,
	seats            INTEGER NOT NULL,
	readers_per_seat INTEGER NOT NULL,
	meter            INTEGER NOT NULL,
	seats_per_unit   INTEGER NOT NULL,
	updated_at       BIGINT  NOT NULL
);

CREATE TABLE console_marks (
	name TEXT   PRIMARY KEY,
	at   BIGINT NOT NULL
);

-- Prefix search: text_pattern_ops makes LIKE 'abc%' use the index whatever
-- the database's collation.
CREATE INDEX accounts_email_prefix ON accounts (email text_pattern_ops);
CREATE INDEX accounts_name_lower ON accounts (lower(name) text_pattern_ops);
CREATE INDEX events_account_at ON events (account_id, at);
CREATE INDEX lease_events_kind_at ON lease_events (kind, at, seat_id, account_id);
CREATE INDEX accounts_created ON accounts (created_at);
CREATE INDEX subscriptions_created ON subscriptions (created_at);
