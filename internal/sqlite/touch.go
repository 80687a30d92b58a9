package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kiosko/kiosko"
)

var _ kiosko.SessionToucher = (*DB)(nil)

// TouchSessions moves many sessions' LastSeenAt and IdleExpiry forward in
// one transaction with one prepared statement. Sessions already ended are
// skipped.
func (db *DB) TouchSessions(ctx context.Context, touches []kiosko.SessionTouch) error {
	if len(touches) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE sessions SET last_seen_at = ?, idle_expiry = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range touches {
			if _, err := stmt.ExecContext(ctx, nanos(t.LastSeen), nanos(t.IdleExpiry), t.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("touch sessions: %w", err)
	}
	return nil
}
