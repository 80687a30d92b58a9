package storetest

import (
	"slices"
	"sort"
	"testing"

	"github.com/kiosko/kiosko"
)

var meterTests = []test{
	{"Idempotent", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a, b := newAccount(t, s), newAccount(t, s)
		got, err := s.FindMeteredReads(ctx, a.ID, "2026-11")
		ok(t, err)
		if len(got) != 0 {
			t.Fatalf("new account has metered reads %v", got)
		}
		for _, id := range []string{"story-a", "story-b", "story-a", "story-a"} {
			ok(t, s.AddMeteredRead(ctx, a.ID, "2026-11", id))
		}
		ok(t, s.AddMeteredRead(ctx, a.ID, "2026-12", "story-c"))
		ok(t, s.AddMeteredRead(ctx, b.ID, "2026-11", "story-d"))
		for _, c := range []struct {
			account int64
			month   string
			want    []string
		}{
			{a.ID, "2026-11", []string{"story-a", "story-b"}},
			{a.ID, "2026-12", []string{"story-c"}},
			{b.ID, "2026-11", []string{"story-d"}},
			{b.ID, "2026-10", []string{}},
		} {
			got, err := s.FindMeteredReads(ctx, c.account, c.month)
			ok(t, err)
			sort.Strings(got)
			if !slices.Equal(got, c.want) && len(got)+len(c.want) > 0 {
				t.Errorf("FindMeteredReads(%d, %s) = %v, want %v", c.account, c.month, got, c.want)
			}
		}
	}},
	{"ConcurrentSameArticle", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s)
		for i, err := range race(8, func(int) error { return s.AddMeteredRead(ctx, a.ID, "2026-11", "story-a") }) {
			if err != nil {
				t.Errorf("AddMeteredRead %d: %v", i, err)
			}
		}
		got, err := s.FindMeteredReads(ctx, a.ID, "2026-11")
		ok(t, err)
		if !slices.Equal(got, []string{"story-a"}) {
			t.Errorf("FindMeteredReads = %v", got)
		}
	}},
}
