package postgres

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/webhook"
)

// TestSecretsAreSealedInTheRows reads the rows as any SQL client with the
// database's password would: after SealSecrets, neither a clear row of
// before nor a new one shows its secret.
func TestSecretsAreSealedInTheRows(t *testing.T) {
	pgtest.Require(t)
	ctx := context.Background()
	db := openTest(t)
	now := time.Now()
	oldKey, err := entitlement.NewKey(now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSigningKey(ctx, oldKey, true); err != nil {
		t.Fatal(err)
	}
	oldEp := &webhook.Endpoint{URL: "https://crm.example.com/k", Secret: webhook.NewSecret(), Enabled: true, CreatedAt: now}
	if err := db.CreateWebhookEndpoint(ctx, oldEp); err != nil {
		t.Fatal(err)
	}
	box, _ := atrest.New([]byte("0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
	if n, err := db.SealSecrets(ctx, box); err != nil || n != 2 {
		t.Fatalf("SealSecrets = %d, %v", n, err)
	}
	newKey, err := entitlement.Rotate(ctx, db, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	newEp := &webhook.Endpoint{URL: "https://cdn.example.com/k", Secret: webhook.NewSecret(), Enabled: true, CreatedAt: now}
	if err := db.CreateWebhookEndpoint(ctx, newEp); err != nil {
		t.Fatal(err)
	}

	rows, err := db.pool.Query(ctx, `SELECT kid, private_key FROM signing_keys`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var kid string
		var stored []byte
		if err := rows.Scan(&kid, &stored); err != nil {
			t.Fatal(err)
		}
		n++
		if !atrest.Sealed(stored) || bytes.Contains(stored, oldKey.Private[len(oldKey.Private)-16:]) || bytes.Contains(stored, newKey.Private[len(newKey.Private)-16:]) {
			t.Errorf("signing key %s is stored as %q", kid, stored)
		}
	}
	rows.Close()
	if n != 2 {
		t.Fatalf("%d signing keys, want 2", n)
	}
	rows, err = db.pool.Query(ctx, `SELECT id, secret FROM webhook_endpoints`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var stored string
		if err := rows.Scan(&id, &stored); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(stored, atrest.Prefix) || strings.Contains(stored, "whsec_") {
			t.Errorf("webhook endpoint %d's secret is stored as %q", id, stored)
		}
	}
}
