package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kiosko/kiosko"
)

// retryAfter is the reconnection delay the event stream suggests to
// EventSource clients.
const retryAfter = 3 * time.Second

// events is GET /api/v1/reading/events, a Server-Sent Events stream of the
// notices for this device: displaced (another device took the lease),
// signed_out (this session ended elsewhere; the stream ends with it) and
// sharing_warning. It works with the browser's cookie (EventSource) and with
// a Bearer token.
func (h *Handler) events(w http.ResponseWriter, r *http.Request, id *kiosko.Identity) {
	release, ok := h.streams.acquire(id)
	if !ok {
		h.Error(w, r, errTooManyStreams())
		return
	}
	if h.serveLight(w, r, id, release) { // events_light.go
		return
	}
	defer release()
	rc := http.NewResponseController(w)
	// The stream outlives any write timeout the server has.
	_ = rc.SetWriteDeadline(time.Time{})

	// Subscribe before the first byte, so a client that saw the stream open
	// cannot miss a notice published right after.
	var notices <-chan kiosko.Notice // without a hub: keep-alives only
	if h.d.Hub != nil {
		var cancel func()
		notices, cancel = h.d.Hub.Subscribe(id.Account.ID, id.Session.DeviceID)
		defer cancel()
	}

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	fmt.Fprintf(w, ": kiosko reading events\nretry: %d\n\n", retryAfter.Milliseconds())
	if err := rc.Flush(); err != nil {
		return
	}

	keepAlive := time.NewTicker(h.keepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closed:
			return
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case n, ok := <-notices:
			if !ok {
				return
			}
			if n.Kind == kiosko.NoticeSignedOut && n.Session != 0 && n.Session != id.Session.ID {
				continue // another session of this device ended, not this one
			}
			if err := writeEvent(w, n); err != nil {
				return
			}
			if n.Kind == kiosko.NoticeSignedOut {
				_ = rc.Flush()
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeEvent writes one notice as an SSE event named after its kind.
func writeEvent(w io.Writer, n kiosko.Notice) error {
	var data any
	switch n.Kind {
	case kiosko.NoticeDisplaced:
		data = struct {
			OtherDevice otherDeviceJSON `json:"other_device"`
		}{otherDeviceJSON{Name: n.OtherName, LastSeen: n.OtherLastSeen}}
	case kiosko.NoticeSignedOut:
		data = struct {
			Reason string `json:"reason,omitempty"`
		}{n.Reason}
	case kiosko.NoticeSharingWarning:
		data = struct{}{}
	default:
		return nil // a kind this stream does not know: nothing to say
	}
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", n.Kind, b)
	return err
}
