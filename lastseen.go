package kiosko

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DeviceSeen is when a device of an account was last used.
type DeviceSeen struct {
	AccountID int64
	DeviceID  string
	At        time.Time
}

// DeviceActivity keeps, in memory, when each signed-in device was last
// used (every authenticated request, heartbeats included), and writes it
// to the devices table in one batch at most once per Every: the device
// list's "last seen" is never more than that behind, and a heartbeat adds
// no database write of its own.
type DeviceActivity struct {
	Store interface {
		TouchDevices(ctx context.Context, seen []DeviceSeen) error
	}
	Every time.Duration // 1 minute when 0
	Log   *slog.Logger

	mu      sync.Mutex
	pending map[deviceKey]time.Time
}

// Note records that a device was used at at. It never blocks on the
// database.
func (d *DeviceActivity) Note(accountID int64, deviceID string, at time.Time) {
	if d == nil || deviceID == "" {
		return
	}
	k := deviceKey{account: accountID, device: deviceID}
	d.mu.Lock()
	if d.pending == nil {
		d.pending = map[deviceKey]time.Time{}
	}
	if at.After(d.pending[k]) {
		d.pending[k] = at
	}
	d.mu.Unlock()
}

// Flush writes what was noted since the last flush.
func (d *DeviceActivity) Flush(ctx context.Context) error {
	d.mu.Lock()
	batch := d.pending
	d.pending = nil
	d.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	seen := make([]DeviceSeen, 0, len(batch))
	for k, at := range batch {
		seen = append(seen, DeviceSeen{AccountID: k.account, DeviceID: k.device, At: at})
	}
	if err := d.Store.TouchDevices(ctx, seen); err != nil {
		// Keep them for the next flush, unless newer ones came.
		for _, s := range seen {
			d.Note(s.AccountID, s.DeviceID, s.At)
		}
		return err
	}
	return nil
}

// Run flushes every Every until ctx ends, then once more.
func (d *DeviceActivity) Run(ctx context.Context) {
	every := d.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := d.Flush(fctx); err != nil && d.Log != nil {
				d.Log.Warn("device last seen: final flush", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := d.Flush(ctx); err != nil && d.Log != nil {
				d.Log.Warn("device last seen: flush", "err", err)
			}
		}
	}
}
