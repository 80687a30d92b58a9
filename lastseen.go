package kiosko

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DeviceSeen is when a device of an account was last used, and the
// language it used then.
type DeviceSeen struct {
	AccountID int64
	DeviceID  string
	At        time.Time // zero: only the language is news
	Lang      string    // "": unchanged
}

// DeviceActivity keeps, in memory, when each signed-in device was last
// used (every authenticated request, heartbeats included), and writes it
// to the devices table at most once per Every: the device list's "last
// seen" is never more than that behind, and a heartbeat adds no database
// write of its own. A flush writes in chunks of Chunk devices with Pause
// between them, so a site with 100,000 devices in use never holds the
// database's writer (and a core) for one long transaction a minute.
type DeviceActivity struct {
	Store interface {
		TouchDevices(ctx context.Context, seen []DeviceSeen) error
	}
	Every time.Duration // 1 minute when 0
	Chunk int           // devices per write; 500 when 0
	Pause time.Duration // between chunks; 0: none
	Log   *slog.Logger

	mu      sync.Mutex
	pending map[deviceKey]time.Time
	langs   map[deviceKey]string
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

// NoteLang records the language a device uses now (its reader's choice or
// the edition it reads, else its browser's or app's language), written
// with the next flush. Unknown languages are ignored. It never blocks on
// the database.
func (d *DeviceActivity) NoteLang(accountID int64, deviceID, lang string) {
	if d == nil || deviceID == "" || !IsLanguage(lang) {
		return
	}
	k := deviceKey{account: accountID, device: deviceID}
	d.mu.Lock()
	if d.langs == nil {
		d.langs = map[deviceKey]string{}
	}
	d.langs[k] = lang
	d.mu.Unlock()
}

// Flush writes what was noted since the last flush, without pauses.
func (d *DeviceActivity) Flush(ctx context.Context) error { return d.flush(ctx, 0) }

func (d *DeviceActivity) flush(ctx context.Context, pause time.Duration) error {
	d.mu.Lock()
	batch, langs := d.pending, d.langs
	d.pending, d.langs = nil, nil
	d.mu.Unlock()
	if len(batch) == 0 && len(langs) == 0 {
		return nil
	}
	seen := make([]DeviceSeen, 0, len(batch)+len(langs))
	for k, at := range batch {
		seen = append(seen, DeviceSeen{AccountID: k.account, DeviceID: k.device, At: at, Lang: langs[k]})
	}
	for k, lang := range langs {
		if _, ok := batch[k]; !ok {
			seen = append(seen, DeviceSeen{AccountID: k.account, DeviceID: k.device, Lang: lang})
		}
	}
	chunk := d.Chunk
	if chunk <= 0 {
		chunk = 500
	}
	for len(seen) > 0 {
		n := min(chunk, len(seen))
		if err := d.Store.TouchDevices(ctx, seen[:n]); err != nil {
			d.keep(seen)
			return err
		}
		seen = seen[n:]
		if len(seen) > 0 && pause > 0 {
			select {
			case <-ctx.Done():
				d.keep(seen)
				return ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	return nil
}

// keep puts what a flush could not write back for the next one, unless
// newer notes came meanwhile.
func (d *DeviceActivity) keep(seen []DeviceSeen) {
	d.mu.Lock()
	for _, s := range seen {
		k := deviceKey{account: s.AccountID, device: s.DeviceID}
		if d.pending == nil {
			d.pending = map[deviceKey]time.Time{}
		}
		if s.At.After(d.pending[k]) {
			d.pending[k] = s.At
		}
		if s.Lang != "" {
			if d.langs == nil {
				d.langs = map[deviceKey]string{}
			}
			if _, newer := d.langs[k]; !newer {
				d.langs[k] = s.Lang
			}
		}
	}
	d.mu.Unlock()
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
			if err := d.flush(ctx, d.Pause); err != nil && ctx.Err() == nil && d.Log != nil {
				d.Log.Warn("device last seen: flush", "err", err)
			}
		}
	}
}
