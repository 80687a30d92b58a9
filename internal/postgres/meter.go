package postgres

import "context"

// FindMeteredReads lists the free articles an account opened in month, in
// the order it opened them.
func (db *DB) FindMeteredReads(ctx context.Context, accountID int64, month string) ([]string, error) {
	ids, err := queryList(ctx, db.pool, scanString, `SELECT article_id FROM metered_reads WHERE account_id = $1 AND month = $2 ORDER BY seq`, accountID, month)
	if err != nil {
		return nil, fail("find metered reads", err)
	}
	return ids, nil
}

// AddMeteredRead records one opening; the same article twice in a month
// keeps one.
func (db *DB) AddMeteredRead(ctx context.Context, accountID int64, month, articleID string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO metered_reads (account_id, month, article_id) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, month, article_id) DO NOTHING`, accountID, month, articleID)
	return fail("add metered read", constraintErr(err, nil))
}
