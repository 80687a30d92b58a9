package newsletter_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
)

func TestParseSubscriberCSV(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		rows     []string // emails
		refused  []string // "line:reason-fragment"
		unusable string   // fragment of the error
	}{
		{name: "plain", in: "email,name\na@example.com,Ana\nB@Example.com,Bea\n", rows: []string{"a@example.com", "b@example.com"}},
		{name: "columns in any order, extra ignored", in: "name,city,Email\nAna,Madrid,a@example.com\n", rows: []string{"a@example.com"}},
		{name: "semicolons and BOM", in: "\ufeffemail;nombre\na@example.com;Ana, la de Sevilla\n", rows: []string{"a@example.com"}},
		{name: "email only", in: "email\na@example.com\n\nb@example.com", rows: []string{"a@example.com", "b@example.com"}},
		{name: "refused rows", in: "email,name\na@example.com,A\nnot-an-email,X\n,Nobody\nA@example.com,again\n",
			rows: []string{"a@example.com"}, refused: []string{"3:not a valid", "4:no email", "5:repeats line 2"}},
		{name: "quoted newline keeps line numbers", in: "email,name\n\"a@example.com\",\"Ana\nMaría\"\nbad,x\n",
			rows: []string{"a@example.com"}, refused: []string{"4:not a valid"}},
		{name: "empty", in: "", unusable: "empty"},
		{name: "header only", in: "email,name\n", unusable: "no subscribers"},
		{name: "no header", in: "a@example.com,Ana\nb@example.com,Bea\n", unusable: "no email column"},
		{name: "broken quotes", in: "email,name\n\"a@example.com,Ana\nb@example.com,\"B\"x\n", unusable: "malformed CSV"},
		{name: "not UTF-8", in: "email,name\na@example.com,J\xe9r\xf4me\n", unusable: "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, refused, err := kiosko.ParseSubscriberCSV(strings.NewReader(tc.in))
			if tc.unusable != "" {
				if err == nil || !strings.Contains(err.Error(), tc.unusable) {
					t.Fatalf("err = %v, want %q", err, tc.unusable)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.Email)
			}
			if strings.Join(got, " ") != strings.Join(tc.rows, " ") {
				t.Errorf("rows %v, want %v", got, tc.rows)
			}
			if len(refused) != len(tc.refused) {
				t.Fatalf("refused %+v, want %v", refused, tc.refused)
			}
			for i, want := range tc.refused {
				line, frag, _ := strings.Cut(want, ":")
				if got := refused[i]; itoa(got.Line) != line || !strings.Contains(got.Reason, frag) {
					t.Errorf("refused[%d] = %+v, want line %s %q", i, got, line, frag)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestImportIsAllOrNothingAndRespectsOptOut(t *testing.T) {
	t.Parallel()
	e := setup(t, "")
	ctx := context.Background()
	// A pending sign-up, an unsubscribed and a bounced address exist.
	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "es", Email: "pending@example.com"}); err != nil {
		t.Fatal(err)
	}
	e.confirmed(t, "es", "left@example.com", "old@example.com")
	if _, err := e.n.Unsubscribe(ctx, e.subscriber(t, "es", "left@example.com").UnsubscribeToken); err != nil {
		t.Fatal(err)
	}

	// An unusable file writes nothing.
	before, _ := e.db.CountSubscribers(ctx, "es")
	_, err := e.n.Import(ctx, "es", strings.NewReader("email,name\nnew@example.com,New\n\"broken\n"), nil)
	if kiosko.ErrorKey(err) != "error.newsletter_import_unusable" {
		t.Fatalf("err = %v", err)
	}
	after, _ := e.db.CountSubscribers(ctx, "es")
	if sum(before) != sum(after) {
		t.Fatalf("unusable file changed subscribers: %v -> %v", before, after)
	}
	if _, err := e.db.FindSubscriber(ctx, "es", "new@example.com"); !kiosko.IsNotFound(err) {
		t.Fatalf("row of an unusable file was written: %v", err)
	}

	var calls int
	rep, err := e.n.Import(ctx, "es", strings.NewReader("email,name\nnew@example.com,New\npending@example.com,P\nold@example.com,O\nleft@example.com,L\nbad,x\n"),
		func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 5 || rep.Added != 1 || rep.Confirmed != 1 || rep.Unchanged != 1 || len(rep.Refused) != 2 || calls == 0 {
		t.Fatalf("report %+v (progress calls %d)", rep, calls)
	}
	if rep.Refused[0].Line != 5 || !strings.Contains(rep.Refused[0].Reason, "unsubscribed") || rep.Refused[1].Line != 6 {
		t.Fatalf("refused %+v", rep.Refused)
	}
	for email, want := range map[string]string{"new@example.com": "confirmed", "pending@example.com": "confirmed", "left@example.com": "unsubscribed"} {
		if s := e.subscriber(t, "es", email); s.Status != want {
			t.Errorf("%s: %s, want %s", email, s.Status, want)
		}
	}
	if _, err := e.n.Import(ctx, "zz", strings.NewReader("email\na@example.com\n"), nil); kiosko.ErrorCode(err) != kiosko.EINVALID {
		t.Fatalf("unknown edition: %v", err)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
