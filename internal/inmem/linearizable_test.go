package inmem_test

import (
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/leasetest"
)

// Thousands of concurrent histories of claims, heartbeats, takeovers,
// releases and holder reads, checked with porcupine against the sequential
// rule.
func TestLeaseEngineIsLinearizable(t *testing.T) {
	t.Parallel()
	s := kiosko.DefaultReadingSettings()
	o := leasetest.LinearOptions{Histories: 2000, Parallel: 16, Clients: 6, OpsPerSeat: 8}
	if testing.Short() {
		o.Histories = 300
	}
	calls, _ := leasetest.CheckLinearizable(t, []kiosko.LeaseEngine{inmem.NewLeaseEngine(s)}, s.LeaseTTL, o)
	t.Logf("%d histories, %d calls: linearizable", o.Histories, calls)
}
