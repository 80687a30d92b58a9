package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kiosko/kiosko"
)

// likePrefix escapes s for LIKE and appends the wildcard.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// SearchAccounts lists accounts newest first; a text search is the union
// of two prefix scans on text_pattern_ops indexes, paged by id.
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
		out, err = queryList(ctx, db.pool, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	case strings.HasPrefix(text, "#"):
		id, perr := strconv.ParseInt(text[1:], 10, 64)
		if perr != nil {
			return []*kiosko.Account{}, nil
		}
		out, err = queryList(ctx, db.pool, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 AND id < $2`, id, before)
	default:
		out, err = queryList(ctx, db.pool, scanAccount, `SELECT `+accountColumns+` FROM accounts WHERE id IN (
			SELECT id FROM accounts WHERE email LIKE $1
			UNION SELECT id FROM accounts WHERE lower(name) LIKE $1
		) AND id < $2 ORDER BY id DESC LIMIT $3`, likePrefix(text), before, limit)
	}
	if err != nil {
		return nil, fail("search accounts", err)
	}
	return out, nil
}

// FindTimeline merges an account's events and lease events, newest first.
func (db *DB) FindTimeline(ctx context.Context, accountID int64, before time.Time, limit int) ([]*kiosko.TimelineEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	b := int64(1<<63 - 1)
	if !before.IsZero() {
		b = nanos(before)
	}
	out, err := queryList(ctx, db.pool, scanTimeline, `(SELECT 'event', type, actor_id, data, '', '', '', at FROM events WHERE account_id = $1 AND at < $2 ORDER BY at DESC LIMIT $3)
	UNION ALL (SELECT 'lease', kind, 0, '{}', device, other_device, reason, at FROM lease_events WHERE account_id = $1 AND at < $2 ORDER BY at DESC LIMIT $3)
	ORDER BY 8 DESC LIMIT $3`, accountID, b, limit)
	if err != nil {
		return nil, fail("timeline", err)
	}
	return out, nil
}

func scanTimeline(r pgx.Row) (*kiosko.TimelineEntry, error) {
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

func scanPlan(r pgx.Row) (*kiosko.Plan, error) {
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
	list, err := queryList(ctx, db.pool, scanPlan, `SELECT `+planColumns+` FROM plans`)
	if err != nil {
		return nil, fail("find plans", err)
	}
	ps := kiosko.Plans{}
	for _, p := range list {
		ps[p.Code] = p
	}
	return ps, nil
}

func savePlan(ctx context.Context, q Querier, p *kiosko.Plan, at time.Time) error {
	names, err := json.Marshal(p.Names)
	if err != nil {
		return err
	}
	perUnit := 0
	if p.SeatsPerUnit {
		perUnit = 1
	}
	_, err = q.Exec(ctx, `INSERT INTO plans (`+planColumns+`, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (code) DO UPDATE SET names = excluded.names, price_cents = excluded.price_cents, currency = excluded.currency,
		period = excluded.period, seats = excluded.seats, readers_per_seat = excluded.readers_per_seat, meter = excluded.meter,
		seats_per_unit = excluded.seats_per_unit, updated_at = excluded.updated_at`,
		p.Code, string(names), p.PriceCents, p.Currency, p.Period, p.Seats, p.ReadersPerSeat, p.Meter, perUnit, nanos(at))
	return err
}

// SavePlan creates or replaces a plan, with the events pending in ctx.
func (db *DB) SavePlan(ctx context.Context, p *kiosko.Plan, at time.Time) error {
	return fail("save plan", db.inTx(ctx, func(tx pgx.Tx) error { return savePlan(ctx, tx, p, at) }))
}

var errImported = errors.New("plans imported before")

// ImportPlans stores ps unless the mark of an earlier import is there;
// two nodes starting at once import once (the mark's primary key).
func (db *DB) ImportPlans(ctx context.Context, ps kiosko.Plans, at time.Time) (bool, error) {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO console_marks (name, at) VALUES ('plans_imported', $1) ON CONFLICT (name) DO NOTHING`, nanos(at))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
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
		return false, fail("import plans", err)
	}
	return true, nil
}

// FindIssues lists newsletter issues newest first.
func (db *DB) FindIssues(ctx context.Context, limit int) ([]*kiosko.Issue, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	out, err := queryList(ctx, db.pool, func(r pgx.Row) (*kiosko.Issue, error) {
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
	}, `SELECT id, edition, week, since, until, article_ids, created_at FROM newsletter_issues ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fail("find issues", err)
	}
	return out, nil
}
