package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/webhook"
)

// dbFiles is everything SQLite keeps on disk for the database at path.
func dbFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// notInFiles fails if any of secrets, or a long piece of one, is in the
// database's files.
func notInFiles(t *testing.T, path, when string, secrets ...[]byte) {
	t.Helper()
	files := dbFiles(t, path)
	if len(files) == 0 {
		t.Fatal("no database files to search")
	}
	for _, s := range secrets {
		for _, piece := range [][]byte{s, s[len(s)/2-8 : len(s)/2+8], s[len(s)-16:]} {
			if bytes.Contains(files, piece) {
				t.Fatalf("%s: %q (a piece of a %d-byte secret) is in the database files", when, piece, len(s))
			}
		}
	}
}

// TestSecretsAreNotInTheFile: the entitlement signing keys and webhook
// secrets of an existing database written clear (as kiosko did before it
// sealed them) are sealed on the first start with a key, so that neither
// they nor anything written later can be found in the SQLite files; the
// same key reads them back, another key is refused.
func TestSecretsAreNotInTheFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kiosko.db")
	open := func() *DB {
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	box, err := atrest.New([]byte("0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	// The database of a kiosko that kept secrets clear.
	db := open()
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
	db.Close()
	if !bytes.Contains(dbFiles(t, path), []byte(oldEp.Secret)) {
		t.Fatal("the clear secret is not in the file before sealing: this test would prove nothing")
	}

	// First start with a key: the clear rows are sealed, and what is
	// written now is sealed from the start.
	db = open()
	if n, err := db.SealSecrets(ctx, box); err != nil || n != 2 {
		t.Fatalf("SealSecrets = %d, %v; want the 2 clear rows sealed", n, err)
	}
	newKey, err := entitlement.Rotate(ctx, db, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	newEp := &webhook.Endpoint{URL: "https://cdn.example.com/k", Secret: webhook.NewSecret(), Enabled: true, CreatedAt: now}
	if err := db.CreateWebhookEndpoint(ctx, newEp); err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{oldKey.Private, newKey.Private, []byte(oldEp.Secret), []byte(newEp.Secret),
		[]byte(strings.TrimPrefix(oldEp.Secret, "whsec_")), []byte(strings.TrimPrefix(newEp.Secret, "whsec_"))}
	notInFiles(t, path, "while running", secrets...)
	db.Close()
	notInFiles(t, path, "after closing", secrets...)

	// Nothing was lost: the same key reads every secret back.
	db = open()
	defer db.Close()
	if _, err := db.SealSecrets(ctx, box); err != nil {
		t.Fatal(err)
	}
	keys, err := db.FindSigningKeys(ctx)
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0].Private, oldKey.Private) || !bytes.Equal(keys[1].Private, newKey.Private) {
		t.Fatalf("signing keys after a restart: %d, %v", len(keys), err)
	}
	eps, err := db.FindWebhookEndpoints(ctx)
	if err != nil || len(eps) != 2 || eps[0].Secret != oldEp.Secret || eps[1].Secret != newEp.Secret {
		t.Fatalf("endpoints after a restart: %+v, %v", eps, err)
	}

	other, _ := atrest.New([]byte("not the secret this database knows"))
	if _, err := db.SealSecrets(ctx, other); !errors.Is(err, atrest.ErrWrongKey) {
		t.Fatalf("SealSecrets with another key = %v, want ErrWrongKey", err)
	}
}
