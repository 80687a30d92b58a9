package postgres

import (
	"context"
	"fmt"

	"github.com/kiosko/kiosko"
)

var _ kiosko.SessionToucher = (*DB)(nil)

// TouchSessions moves many sessions' LastSeenAt and IdleExpiry forward in
// one statement. Sessions already ended are skipped.
func (db *DB) TouchSessions(ctx context.Context, touches []kiosko.SessionTouch) error {
	if len(touches) == 0 {
		return nil
	}
	ids := make([]int64, len(touches))
	seen := make([]int64, len(touches))
	idle := make([]int64, len(touches))
	for i, t := range touches {
		ids[i], seen[i], idle[i] = t.ID, nanos(t.LastSeen), nanos(t.IdleExpiry)
	}
	_, err := db.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = v.seen, idle_expiry = v.idle
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, seen, idle)
		WHERE sessions.id = v.id`, ids, seen, idle)
	if err != nil {
		return fmt.Errorf("touch sessions: %w", err)
	}
	return nil
}
