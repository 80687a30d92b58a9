-- 0008: accounts and their data (issue 14). Links that confirm an address:
-- 'verify' confirms the address an account signed up with, 'change' the new
-- address of an email change (email holds that new address). Only the
-- token's SHA-256 is kept; a link works once and until expires_at. The same
-- table and columns as SQLite's 0008.
CREATE TABLE email_tokens (
	token_hash BYTEA  PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind       TEXT   NOT NULL CHECK (kind IN ('verify', 'change')),
	email      TEXT   NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX email_tokens_account ON email_tokens (account_id, kind);

-- Accounts made before sign-up asked for a verified address keep working
-- as they did: they count as verified from the day they were created.
UPDATE accounts SET email_verified_at = created_at WHERE email_verified_at IS NULL;

-- A device keeps its country at most (docs/accounts.md): the truncated
-- addresses and browser time zones that earlier versions kept as a
-- device's "place" are dropped; the next sign-in fills in the country.
UPDATE devices SET ip = '', place = '' WHERE ip <> '' OR length(place) <> 2;
