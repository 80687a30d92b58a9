package kiosko_test

import (
	"context"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func TestPendingEventsAreTakenOnceAndCanBeReturned(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if kiosko.HasPendingEvents(context.Background()) || kiosko.TakeEvents(context.Background()) != nil {
		t.Fatal("a plain context carries pending events")
	}
	ctx := kiosko.WithEvents(context.Background(), kiosko.NewEvent(kiosko.EventSeatAdded, 1, 2, map[string]int{"seat": 3}, at))
	// Adding to a context that already carries events appends to them.
	if got := kiosko.WithEvents(ctx, kiosko.NewEvent(kiosko.EventSeatRemoved, 1, 2, nil, at)); got != ctx {
		t.Error("WithEvents on a context with pending events made a new context; the store would not see them")
	}
	if !kiosko.HasPendingEvents(ctx) {
		t.Fatal("no pending events after WithEvents")
	}
	evs := kiosko.TakeEvents(ctx)
	if len(evs) != 2 || evs[0].Type != kiosko.EventSeatAdded || evs[1].Type != kiosko.EventSeatRemoved || string(evs[0].Data) != `{"seat":3}` {
		t.Fatalf("TakeEvents = %+v", evs)
	}
	if kiosko.HasPendingEvents(ctx) || kiosko.TakeEvents(ctx) != nil {
		t.Fatal("events taken twice")
	}
	kiosko.ReturnEvents(ctx, evs)
	if got := kiosko.TakeEvents(ctx); len(got) != 2 || got[0].Type != kiosko.EventSeatAdded {
		t.Fatalf("after ReturnEvents, TakeEvents = %+v", got)
	}
}
