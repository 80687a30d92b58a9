package postgres

import (
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

var accountColumnNames = map[string]bool{"account_id": true, "owner_id": true, "actor_id": true, "invited_by": true, "accepted_by": true, "email": true}

// TestExportCoversEveryTableWithAnAccountColumn reads the schema from
// information_schema: a table that has an account column, or references
// accounts, must be in the export, so a new table cannot be forgotten.
func TestExportCoversEveryTableWithAnAccountColumn(t *testing.T) {
	pgtest.Require(t)
	db := openTest(t)
	ctx := t.Context()
	a := &kiosko.Account{Email: "ana@example.com", PasswordHash: "h", Role: kiosko.RoleReader, Lang: "es", CreatedAt: time.Now()}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	data, err := db.ExportAccountData(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.pool.Query(ctx, `SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
		WHERE c.table_schema = current_schema()
		UNION
		SELECT tc.table_name, 'a reference to accounts' FROM information_schema.table_constraints tc
		JOIN information_schema.constraint_column_usage cu ON cu.constraint_schema = tc.constraint_schema AND cu.constraint_name = tc.constraint_name
		WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND cu.table_name = 'accounts'`)
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		if accountColumnNames[col] || col == "a reference to accounts" {
			why[table] = col
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(why) < 10 {
		t.Fatalf("only %d tables with an account column: the schema scan is broken", len(why))
	}
	for table, col := range why {
		if _, ok := data[table]; !ok {
			t.Errorf("table %s has %s but the export leaves it out: add it to exportQueries (and DeleteAccountData)", table, col)
		}
	}
}
