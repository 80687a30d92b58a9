package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/kiosko/kiosko"
)

// seedViews gives the paywall charts a past that follows the real rule:
// every claim of the replayed history is a subscriber's article view, and
// a recurring audience of anonymous visitors and free registered readers
// opens the demo's articles, each view decided by kiosko.DecideAccess
// with a monthly meter per visitor, so walls appear where the meter runs
// out and on subscriber articles. The counts go through the same
// ViewRecorder the article page uses.
func seedViews(ctx context.Context, store kiosko.Store, start, now time.Time, claims []kiosko.LeaseEvent) error {
	arts, err := store.FindArticles(ctx, kiosko.ArticleFilter{VisibleAt: now})
	if err != nil {
		return fmt.Errorf("demo views: %w", err)
	}
	var at time.Time
	rec := kiosko.NewViewRecorder(store, kiosko.ClockFunc(func() time.Time { return at }), nil)
	for _, e := range claims {
		if e.Kind == kiosko.EventClaim {
			at = e.At
			rec.Article(true, kiosko.AccessDecision{Allowed: true, Seat: true})
		}
	}
	if len(arts) > 0 {
		const anonymous, registered = 400, 60 // recurring visitors
		rnd := rand.New(rand.NewPCG(7, 11))
		read := map[string][]string{} // visitor and month: free articles opened
		days := int(now.Sub(start) / kiosko.Day)
		for d := 0; d < days; d++ {
			day := start.Add(time.Duration(d) * kiosko.Day)
			// The audience grows over the period, with quieter weekends.
			visits := 120 + 4*d
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				visits = visits * 2 / 3
			}
			for v := 0; v < visits; v++ {
				signedIn := rnd.IntN(anonymous+registered) >= anonymous
				who, limit := rnd.IntN(anonymous), 10
				if signedIn {
					who, limit = anonymous+rnd.IntN(registered), 20
				}
				key := fmt.Sprintf("%d/%s", who, day.Format("2006-01"))
				at = day.Add(time.Duration(rnd.IntN(int(kiosko.Day))))
				if at.After(now) {
					continue
				}
				for range 1 + rnd.IntN(4) {
					a := arts[rnd.IntN(len(arts))]
					dec := kiosko.DecideAccess(a, false, signedIn, limit, read[key])
					if dec.Count {
						read[key] = append(read[key], a.ID)
					}
					rec.Article(signedIn, dec)
				}
			}
		}
	}
	if err := rec.Flush(ctx); err != nil {
		return fmt.Errorf("demo views: %w", err)
	}
	return nil
}
