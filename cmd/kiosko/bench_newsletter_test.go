package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestBenchNewsletterTiny runs the newsletter part small: the bare
// sender, kiosko on SQLite and, when the tests have one, PostgreSQL, each
// checked by the sink to have reached every subscriber exactly once.
func TestBenchNewsletterTiny(t *testing.T) {
	args := []string{"--tiny", "--only", "newsletter", "--postgres", os.Getenv("KIOSKO_TEST_POSTGRES")}
	var out, errs bytes.Buffer
	if err := benchCommand(context.Background(), args, &out, &errs); err != nil {
		t.Fatalf("kiosko bench %s: %v\n%s\n%s", strings.Join(args, " "), err, out.String(), errs.String())
	}
	t.Log("\n" + out.String())
	want := []string{"ceiling (bare sender)", "kiosko, SQLite", "target SQLite"}
	if os.Getenv("KIOSKO_TEST_POSTGRES") != "" {
		want = append(want, "kiosko, PostgreSQL", "target PostgreSQL")
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("the report lacks %q:\n%s", w, out.String())
		}
	}
}
