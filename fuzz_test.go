package kiosko_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kiosko/kiosko"
)

// Fuzz targets of the outside input the root package parses: subscriber
// CSV files, device tokens and names. Seeds are in testdata/fuzz/.

func FuzzParseSubscriberCSV(f *testing.F) {
	f.Add([]byte("email,name\nana@example.com,Ana\n"))
	f.Add([]byte("\xef\xbb\xbfnombre;email\nLuis;luis@example.es\n;bad\n"))
	f.Add([]byte("email\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, refused, err := kiosko.ParseSubscriberCSV(strings.NewReader(string(data)))
		if err != nil {
			if len(rows) != 0 {
				t.Fatalf("an unusable file still gave %d rows", len(rows))
			}
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		if len(rows)+len(refused) > lines {
			t.Fatalf("%d rows and %d refusals from %d lines", len(rows), len(refused), lines)
		}
		for _, r := range rows {
			if norm, err := kiosko.NormalizeEmail(r.Email); err != nil || norm != r.Email {
				t.Fatalf("row %d has email %q, not normalised (%v)", r.Line, r.Email, err)
			}
			if !utf8.ValidString(r.Name) {
				t.Fatalf("row %d has a name that is not UTF-8", r.Line)
			}
		}
	})
}

func FuzzDeviceToken(f *testing.F) {
	a := &kiosko.Auth{Clock: kiosko.SystemClock{}, DeviceKey: []byte("fuzzing key of thirty-two bytes!")}
	other := &kiosko.Auth{Clock: kiosko.SystemClock{}, DeviceKey: []byte("another key, as long as the first")}
	good := a.IssueDeviceToken(7)
	if !a.ValidDeviceToken(good, 7) || a.ValidDeviceToken(good, 8) || other.ValidDeviceToken(good, 7) {
		f.Fatal("an issued token is not valid for its account and key alone")
	}
	f.Add(good, int64(7))
	f.Add("dt1.7.1700000000.AAAA.BBBB", int64(7))
	f.Add("dt1..", int64(0))
	f.Fuzz(func(t *testing.T, token string, account int64) {
		if !a.ValidDeviceToken(token, account) {
			return
		}
		// Only a token signed with this key for this account passes.
		parts := strings.Split(token, ".")
		if len(parts) != 5 || parts[1] != strconv.FormatInt(account, 10) || other.ValidDeviceToken(token, account) {
			t.Fatalf("accepted %q for account %d", token, account)
		}
		if a.ValidDeviceToken(token+"x", account) || a.ValidDeviceToken(token, account+1) {
			t.Fatalf("a changed token or account still passes: %q", token)
		}
	})
}

func FuzzCleanName(f *testing.F) {
	f.Add("Ana García")
	f.Add("Mi\u202egnp.exe\u2066 móvil\x1b[31m\r\nBcc: x")
	f.Add("\xff\xfe\u200f")
	f.Fuzz(func(t *testing.T, s string) {
		c := kiosko.CleanName(s)
		if !utf8.ValidString(c) {
			t.Fatalf("not UTF-8: %q", c)
		}
		for _, r := range c {
			if unicode.IsControl(r) || r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' || r == '\u2028' || r == '\u2029' {
				t.Fatalf("%q kept %U", c, r)
			}
		}
		if kiosko.CleanName(c) != c {
			t.Fatalf("not idempotent: %q -> %q", c, kiosko.CleanName(c))
		}
	})
}
