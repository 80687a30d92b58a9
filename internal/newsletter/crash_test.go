package newsletter_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// TestHelperSender is not a test: TestResumeAfterSIGKILL runs the test
// binary again with this one selected to get a sender process it can kill.
func TestHelperSender(t *testing.T) {
	path, pgURL := os.Getenv("KIOSKO_TEST_SENDER_DB"), os.Getenv("KIOSKO_TEST_SENDER_PG")
	if path == "" && pgURL == "" {
		t.Skip("helper process for TestResumeAfterSIGKILL")
	}
	var db interface {
		kiosko.Store
		Close() error
	}
	var err error
	if pgURL != "" {
		db, err = postgres.Open(context.Background(), pgURL)
	} else {
		db, err = sqlite.Open(path)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	rate, _ := strconv.ParseFloat(os.Getenv("KIOSKO_TEST_SENDER_RATE"), 64)
	start, _ := time.Parse(time.RFC3339Nano, os.Getenv("KIOSKO_TEST_SENDER_NOW"))
	n := newService(t, db, os.Getenv("KIOSKO_TEST_SENDER_SMTP"), &clock{t: start, start: time.Now()}, 8)
	bulk, err := mail.NewBulk(mail.Config{Addr: os.Getenv("KIOSKO_TEST_SENDER_SMTP")}, mail.BulkConfig{Connections: 8, Rate: rate})
	if err != nil {
		t.Fatal(err)
	}
	n.Bulk = bulk
	rep, err := n.SendIssue(context.Background(), "es", kiosko.SendOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "send:", err)
		os.Exit(4)
	}
	fmt.Printf("REPORT sent=%d interrupted=%d total=%d\n", rep.Sent, rep.Interrupted, rep.Counts.Total())
	bulk.Close()
	db.Close()
	os.Exit(0)
}

// TestResumeAfterSIGKILL kills a sending process with SIGKILL a third of
// the way through and runs it again: nobody gets the issue twice, on
// either database.
func TestResumeAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real process; slow")
	}
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		mp := mailpit.Start(t)
		resumeAfterSIGKILL(t, mp, setup(t, mp.SMTPAddr))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		mp := mailpit.Start(t)
		resumeAfterSIGKILL(t, mp, setupPostgres(t, mp.SMTPAddr))
	})
}

func resumeAfterSIGKILL(t *testing.T, mp *mailpit.Server, e *env) {
	const n = 1000
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%04d@example.com", i)
	}
	e.confirmed(t, "es", emails...)

	sender := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSender$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KIOSKO_TEST_SENDER_DB="+e.path, "KIOSKO_TEST_SENDER_PG="+e.pgURL, "KIOSKO_TEST_SENDER_SMTP="+mp.SMTPAddr,
			"KIOSKO_TEST_SENDER_RATE=1000", "KIOSKO_TEST_SENDER_NOW="+e.clock.Now().Format(time.RFC3339Nano))
		return cmd
	}
	// First run: kill it with SIGKILL once a third has gone out.
	first := sender()
	var out1 strings.Builder
	first.Stdout, first.Stderr = &out1, &out1
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for mp.Count(t) < n/3 {
		if time.Now().After(deadline) {
			first.Process.Kill()
			t.Fatalf("sender too slow; output: %s", out1.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := first.Wait()
	if ws, ok := first.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("first sender was not killed: %v; output: %s", err, out1.String())
	}
	// Mailpit stores a message before it answers 250, so what it counts
	// now is at least what the killed sender saw accepted.
	atKill := mp.Count(t)
	if atKill >= n {
		t.Fatalf("the sender finished (%d) before the kill; make it slower", atKill)
	}

	// Second run: resumes and completes.
	second := sender()
	out2, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("second sender: %v: %s", err, out2)
	}
	t.Logf("killed after %d messages; resume: %s", atKill, strings.TrimSpace(string(out2)))

	// Everyone got the issue at most once; everyone the database says was
	// sent got it exactly once; unknown rows (interrupted in the commit
	// window) got it at most once and number at most two
	// batches per worker.
	received := map[string]int{}
	for _, m := range mp.Messages(t) {
		for _, a := range m.To {
			received[a.Address]++
		}
	}
	statuses := deliveryStatuses(t, e)
	unknown, delivered := 0, 0
	for _, email := range emails {
		got, st := received[email], statuses[email]
		switch {
		case got > 1:
			t.Errorf("%s got the issue %d times", email, got)
		case st == kiosko.DeliverySent && got != 1:
			t.Errorf("%s is recorded sent but got %d", email, got)
		case st == kiosko.DeliveryUnknown:
			unknown++
			delivered += got
		case st != kiosko.DeliverySent:
			t.Errorf("%s: delivery %q after the resumed run", email, st)
		}
	}
	// The window: each of the 8 workers has at most two batches
	// committing, the one it sends and the next.
	if window := 2 * 8 * kiosko.DefaultNewsletterSettings().BatchSize; unknown > window {
		t.Errorf("%d deliveries unknown; at most the %d of the 8 workers' two batches can be", unknown, window)
	}
	t.Logf("%d recipients: %d exactly once; %d interrupted in the commit window (%d of them did receive it, none twice)",
		n, n-unknown, unknown, delivered)
}

// deliveryStatuses reads each recipient's delivery status straight from
// the database the sender used.
func deliveryStatuses(t *testing.T, e *env) map[string]string {
	t.Helper()
	const q = `SELECT s.email, d.status FROM newsletter_deliveries d JOIN newsletter_subscribers s ON s.id = d.subscriber_id`
	out := map[string]string{}
	if e.pgURL != "" {
		pool, err := pgxpool.New(context.Background(), e.pgURL)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		rows, err := pool.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var e, s string
			if err := rows.Scan(&e, &s); err != nil {
				t.Fatal(err)
			}
			out[e] = s
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	db, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e, s string
		if err := rows.Scan(&e, &s); err != nil {
			t.Fatal(err)
		}
		out[e] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
