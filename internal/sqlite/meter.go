package sqlite

import (
	"context"
	"fmt"
)

// FindMeteredReads lists the free articles an account opened in month, in
// the order it opened them.
func (db *DB) FindMeteredReads(ctx context.Context, accountID int64, month string) ([]string, error) {
	ids, err := queryList(ctx, db.read, scanString, `SELECT article_id FROM metered_reads WHERE account_id = ? AND month = ? ORDER BY rowid`, accountID, month)
	if err != nil {
		return nil, fmt.Errorf("find metered reads: %w", err)
	}
	return ids, nil
}

// AddMeteredRead records one opening; the same article twice in a month
// keeps one.
func (db *DB) AddMeteredRead(ctx context.Context, accountID int64, month, articleID string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO metered_reads (account_id, month, article_id) VALUES (?, ?, ?)
		ON CONFLICT (account_id, month, article_id) DO NOTHING`, accountID, month, articleID)
	if err != nil {
		return fmt.Errorf("add metered read: %w", constraintErr(err, nil))
	}
	return nil
}
