package inmem_test

import (
	"context"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/leasetest"
)

func TestHub(t *testing.T) {
	leasetest.RunHub(t, func(t *testing.T) kiosko.Hub { return inmem.NewHub() })
}

func TestHubDropsAndCountsWhatASlowPageMisses(t *testing.T) {
	h := inmem.NewHubSize(2)
	ctx := context.Background()
	ch, cancel := h.Subscribe(1, "phone")
	if h.Subscribers() != 1 {
		t.Fatalf("%d subscribers, want 1", h.Subscribers())
	}
	for i := 0; i < 5; i++ {
		if err := h.Publish(ctx, kiosko.Notice{Kind: kiosko.NoticeDisplaced, AccountID: 1, Device: "phone", Seat: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.Dropped(); got != 3 {
		t.Errorf("Dropped() = %d, want 3", got)
	}
	cancel()
	var seats []int64
	for n := range ch { // cancel closed the channel after the buffered notices
		seats = append(seats, n.Seat)
	}
	if len(seats) != 2 || seats[0] != 0 || seats[1] != 1 {
		t.Errorf("buffered notices %v, want the first two [0 1]", seats)
	}
	if h.Subscribers() != 0 {
		t.Errorf("%d subscribers after cancel, want 0", h.Subscribers())
	}
}
