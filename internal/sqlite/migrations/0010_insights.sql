-- Insights read daily counters instead of counting the event log: one row
-- per UTC day (days since 1970-01-01), kind and dimension, added to in the
-- transaction that writes the events (kiosko.TallyLeaseEvents) or by the
-- page-view recorder's flush. Charts then read a few hundred rows. Tables
-- keep their rowid: kiosko migrate-data copies every table in rowid order.
CREATE TABLE insight_days (
	day  INTEGER NOT NULL,
	kind TEXT    NOT NULL,
	dim  TEXT    NOT NULL DEFAULT '',
	n    INTEGER NOT NULL,
	PRIMARY KEY (day, kind, dim)
);

-- How each seat is sorted on each day it had reading or warning events
-- (kiosko.SeatNotShared...), so a later event of the day can move it up
-- one category exactly once. Only seat numbers: nothing about a person.
CREATE TABLE insight_seat_days (
	day      INTEGER NOT NULL,
	seat_id  INTEGER NOT NULL,
	was_read INTEGER NOT NULL,
	category INTEGER NOT NULL,
	PRIMARY KEY (day, seat_id)
);

-- Every sharing warning with the first clearing of its seat after it.
CREATE TABLE insight_warnings (
	seat_id    INTEGER NOT NULL,
	set_at     INTEGER NOT NULL,
	cleared_at INTEGER,
	reason     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (seat_id, set_at)
);
CREATE INDEX insight_warnings_set ON insight_warnings (set_at);

-- The counters replace the covering index 0007 added for counting lease
-- events; writers look up a seat's latest warning in this small one.
DROP INDEX lease_events_kind_at;
CREATE INDEX lease_events_seat_warnings ON lease_events (seat_id, at) WHERE kind IN ('warning_set', 'warning_cleared');
-- Newsletter insights count these times per day.
CREATE INDEX newsletter_subscribers_confirmed ON newsletter_subscribers (confirmed_at) WHERE confirmed_at IS NOT NULL;
CREATE INDEX newsletter_subscribers_unsubscribed ON newsletter_subscribers (unsubscribed_at) WHERE unsubscribed_at IS NOT NULL;
CREATE INDEX newsletter_subscribers_bounced ON newsletter_subscribers (bounced_at) WHERE bounced_at IS NOT NULL;

-- Sign-ups and subscriptions started are counted by the database itself,
-- whichever path inserts the row (sign-up, CLI, members import, demo).
CREATE TRIGGER accounts_insight AFTER INSERT ON accounts BEGIN
	INSERT INTO insight_days (day, kind, dim, n) VALUES (NEW.created_at / 86400000000000, 'signups', '', 1)
		ON CONFLICT (day, kind, dim) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER subscriptions_insight AFTER INSERT ON subscriptions BEGIN
	INSERT INTO insight_days (day, kind, dim, n) VALUES (NEW.created_at / 86400000000000, 'subscriptions', '', 1)
		ON CONFLICT (day, kind, dim) DO UPDATE SET n = n + 1;
END;

-- backfill: the counters of the lease events written before this migration.
INSERT INTO insight_days (day, kind, dim, n)
SELECT at / 86400000000000, 'lease', kind, count(*) FROM lease_events GROUP BY 1, 3;

INSERT INTO insight_days (day, kind, dim, n)
SELECT at / 86400000000000, 'readers', '', count(DISTINCT account_id) FROM lease_events WHERE kind = 'claim' AND account_id <> 0 GROUP BY 1;

INSERT INTO insight_seat_days (day, seat_id, was_read, category)
SELECT day, seat_id, rd,
	CASE WHEN wn = 1 OR (SELECT w.kind FROM lease_events w WHERE w.seat_id = sd.seat_id AND w.kind IN ('warning_set', 'warning_cleared') AND w.at < sd.day * 86400000000000 ORDER BY w.at DESC, w.id DESC LIMIT 1) = 'warning_set' THEN 3
		WHEN ct = 1 THEN 2 ELSE 1 END
FROM (SELECT at / 86400000000000 AS day, seat_id,
		max(CASE WHEN kind IN ('claim', 'takeover_contested', 'takeover_quiet') THEN 1 ELSE 0 END) AS rd,
		max(CASE WHEN kind = 'takeover_contested' THEN 1 ELSE 0 END) AS ct,
		max(CASE WHEN kind IN ('warning_set', 'warning_cleared') THEN 1 ELSE 0 END) AS wn
	FROM lease_events WHERE seat_id <> 0 AND kind IN ('claim', 'takeover_contested', 'takeover_quiet', 'warning_set', 'warning_cleared')
	GROUP BY 1, 2) AS sd;

INSERT INTO insight_days (day, kind, dim, n)
SELECT day, 'seats', CASE category WHEN 1 THEN 'not_shared' WHEN 2 THEN 'possibly' ELSE 'warned' END, count(*)
FROM insight_seat_days WHERE was_read = 1 GROUP BY 1, 3;

INSERT INTO insight_warnings (seat_id, set_at, cleared_at, reason)
SELECT seat_id, set_at, cleared_at, COALESCE((SELECT c.reason FROM lease_events c WHERE c.seat_id = w.seat_id AND c.kind IN ('warning_set', 'warning_cleared') AND c.kind = 'warning_cleared' AND c.at = w.cleared_at ORDER BY c.id LIMIT 1), '')
FROM (SELECT s.seat_id, s.at AS set_at,
		(SELECT min(c.at) FROM lease_events c WHERE c.seat_id = s.seat_id AND c.kind IN ('warning_set', 'warning_cleared') AND c.kind = 'warning_cleared' AND c.at >= s.at) AS cleared_at
	FROM lease_events s WHERE s.kind = 'warning_set') AS w
WHERE true
ON CONFLICT DO NOTHING;

INSERT INTO insight_days (day, kind, dim, n)
SELECT created_at / 86400000000000, 'signups', '', count(*) FROM accounts GROUP BY 1;

INSERT INTO insight_days (day, kind, dim, n)
SELECT created_at / 86400000000000, 'subscriptions', '', count(*) FROM subscriptions GROUP BY 1;
