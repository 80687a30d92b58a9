package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// prefixBound is past every string that starts with the prefix it follows:
// U+10FFFF is the largest code point, and SQLite compares UTF-8 bytes.
const prefixBound = "\U0010FFFF"

// SearchAccounts lists accounts newest first. A text search is the union
// of two index range scans (email, then lower(name)) so it never walks the
// whole table; paging is by id, so a deep page costs what the first does.
func (db *DB) SearchAccounts(ctx context.Context, q kiosko.AccountQuery) ([]*kiosko.Account, error) {
	limit := q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	before := q.BeforeID
	if before <= 0 {
		before = 1<<63 - 1
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	var (
		out []*kiosko.Account
		err error
	)
	switch {
	case text == "":
		out, err = queryList(ctx, db.read, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
	case strings.HasPrefix(text, "#"):
		id, perr := strconv.ParseInt(text[1:], 10, 64)
		if perr != nil {
			return []*kiosko.Account{}, nil
		}
		out, err = queryList(ctx, db.read, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id = ? AND id < ?`, id, before)
	default:
		out, err = db.searchText(ctx, text, before, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", err)
	}
	return out, nil
}

// broadSearch is the number of matches past which a search walks the
// accounts newest first and keeps the matching ones, instead of collecting
// every match and sorting them.
const broadSearch = 20000

// searchText finds accounts whose email or lower-cased name starts with
// text. A narrow prefix is answered from the two indexes: at most a few
// thousand ids, sorted. A broad one ("ma") matches a good share of the
// table, so walking the primary key newest first meets a page of matches
// after a few thousand rows: about limit*accounts/matches.
func (db *DB) searchText(ctx context.Context, text string, before int64, limit int) ([]*kiosko.Account, error) {
	hi := text + prefixBound
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 FROM accounts WHERE email >= ?1 AND email < ?2 LIMIT ?3)) +
		(SELECT count(*) FROM (SELECT 1 FROM accounts WHERE lower(name) >= ?1 AND lower(name) < ?2 LIMIT ?3))`, text, hi, broadSearch+1).Scan(&n)
	if err != nil {
		return nil, err
	}
	if n <= broadSearch {
		return queryList(ctx, db.read, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id IN (
			SELECT id FROM accounts WHERE email >= ?1 AND email < ?2
			UNION SELECT id FROM accounts WHERE lower(name) >= ?1 AND lower(name) < ?2
		) AND id < ?3 ORDER BY id DESC LIMIT ?4`, text, hi, before, limit)
	}
	// The unary + keeps SQLite from the email and name indexes here.
	return queryList(ctx, db.read, scanAccount, `SELECT `+accountColumns+` FROM accounts
		WHERE id < ?3 AND ((+email >= ?1 AND +email < ?2) OR (lower(+name) >= ?1 AND lower(+name) < ?2))
		ORDER BY id DESC LIMIT ?4`, text, hi, before, limit)
}

// FindTimeline merges an account's events and lease events, newest first.
// Each side is limited on its own index before the merge.
func (db *DB) FindTimeline(ctx context.Context, accountID int64, before time.Time, limit int) ([]*kiosko.TimelineEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	b := int64(1<<63 - 1)
	if !before.IsZero() {
		b = nanos(before)
	}
	out, err := queryList(ctx, db.read, scanTimeline, `SELECT * FROM (
		SELECT 'event', type, actor_id, data, '', '', '', at FROM events WHERE account_id = ?1 AND at < ?2 ORDER BY at DESC LIMIT ?3)
	UNION ALL SELECT * FROM (
		SELECT 'lease', kind, 0, '{}', device, other_device, reason, at FROM lease_events WHERE account_id = ?1 AND at < ?2 ORDER BY at DESC LIMIT ?3)
	ORDER BY 8 DESC LIMIT ?3`, accountID, b, limit)
	if err != nil {
		return nil, fmt.Errorf("timeline: %w", err)
	}
	return out, nil
}

func scanTimeline(r scanner) (*kiosko.TimelineEntry, error) {
	var e kiosko.TimelineEntry
	var data string
	var at int64
	if err := r.Scan(&e.Source, &e.Type, &e.ActorID, &data, &e.Device, &e.OtherDevice, &e.Reason, &at); err != nil {
		return nil, err
	}
	e.Data = json.RawMessage(data)
	e.At = fromNanos(at)
	return &e, nil
}

const planColumns = `code, names, price_cents, currency, period, seats, readers_per_seat, meter, seats_per_unit`

func scanPlan(r scanner) (*kiosko.Plan, error) {
	var p kiosko.Plan
	var names string
	var perUnit int
	if err := r.Scan(&p.Code, &names, &p.PriceCents, &p.Currency, &p.Period, &p.Seats, &p.ReadersPerSeat, &p.Meter, &perUnit); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(names), &p.Names); err != nil {
		return nil, fmt.Errorf("plan %s: names: %w", p.Code, err)
	}
	p.SeatsPerUnit = perUnit != 0
	return &p, nil
}

// FindPlans returns every stored plan.
func (db *DB) FindPlans(ctx context.Context) (kiosko.Plans, error) {
	list, err := queryList(ctx, db.read, scanPlan, `SELECT `+planColumns+` FROM plans`)
	if err != nil {
		return nil, fmt.Errorf("find plans: %w", err)
	}
	ps := kiosko.Plans{}
	for _, p := range list {
		ps[p.Code] = p
	}
	return ps, nil
}

func savePlan(ctx context.Context, q querier, p *kiosko.Plan, at time.Time) error {
	names, err := json.Marshal(p.Names)
	if err != nil {
		return err
	}
	perUnit := 0
	if p.SeatsPerUnit {
		perUnit = 1
	}
	_, err = q.ExecContext(ctx, `INSERT INTO plans (`+planColumns+`, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (code) DO UPDATE SET names = excluded.names, price_cents = excluded.price_cents, currency = excluded.currency,
		period = excluded.period, seats = excluded.seats, readers_per_seat = excluded.readers_per_seat, meter = excluded.meter,
		seats_per_unit = excluded.seats_per_unit, updated_at = excluded.updated_at`,
		p.Code, string(names), p.PriceCents, p.Currency, p.Period, p.Seats, p.ReadersPerSeat, p.Meter, perUnit, nanos(at))
	return err
}

// SavePlan creates or replaces a plan, with the events pending in ctx.
func (db *DB) SavePlan(ctx context.Context, p *kiosko.Plan, at time.Time) error {
	if err := db.inTx(ctx, func(tx *sql.Tx) error { return savePlan(ctx, tx, p, at) }); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

var errImported = errors.New("plans imported before")

// ImportPlans stores ps unless the mark of an earlier import is there.
func (db *DB) ImportPlans(ctx context.Context, ps kiosko.Plans, at time.Time) (bool, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO console_marks (name, at) VALUES ('plans_imported', ?) ON CONFLICT (name) DO NOTHING`, nanos(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errImported
		}
		for _, p := range ps.Sorted() {
			if err := savePlan(ctx, tx, p, at); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errImported) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("import plans: %w", err)
	}
	return true, nil
}

// FindIssues lists newsletter issues newest first.
func (db *DB) FindIssues(ctx context.Context, limit int) ([]*kiosko.Issue, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out, err := queryList(ctx, db.read, func(r scanner) (*kiosko.Issue, error) {
		var i kiosko.Issue
		var since, until, created int64
		var ids string
		if err := r.Scan(&i.ID, &i.Edition, &i.Week, &since, &until, &ids, &created); err != nil {
			return nil, err
		}
		i.Since, i.Until, i.CreatedAt = fromNanos(since), fromNanos(until), fromNanos(created)
		if err := json.Unmarshal([]byte(ids), &i.ArticleIDs); err != nil {
			return nil, err
		}
		return &i, nil
	}, `SELECT id, edition, week, since, until, article_ids, created_at FROM newsletter_issues ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("find issues: %w", err)
	}
	return out, nil
}
