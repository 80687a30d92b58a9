package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kiosko/kiosko"
)

// Worker delivers pending messages. Several workers, on one node or on
// many, may share a store: each endpoint is delivered by one worker at a
// time, so its messages go out in order and a message is never sent twice
// at once.
type Worker struct {
	Store  Store
	Client *http.Client // nil: Guard{}.Client(Timeout)
	Name   string       // unique among workers; empty: a random one
	// Now is the clock; nil: time.Now. Tests move it to reach retries.
	Now     func() time.Time
	Timeout time.Duration // per attempt; 0: 15 s
	Batch   int           // endpoints claimed per round; 0: 16
	Logger  *slog.Logger  // nil: slog.Default()
	// Observe, if set, is told the outcome of every attempt: "delivered",
	// "retried" (failed, tried again later) or "failed" (given up).
	Observe func(outcome string)
	// OnDisable, if set, is called when an endpoint is disabled after a
	// day of failures.
	OnDisable func(ctx context.Context, e *Endpoint)
}

func (w *Worker) init() {
	if w.Name == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		w.Name = "worker-" + hex.EncodeToString(b)
	}
	if w.Timeout == 0 {
		w.Timeout = 15 * time.Second
	}
	if w.Client == nil {
		w.Client = Guard{}.Client(w.Timeout)
	}
	if w.Batch == 0 {
		w.Batch = 16
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
	if w.Now == nil {
		w.Now = time.Now
	}
}

// claimFor is how long a claim lasts: long enough for a few attempts, so
// a worker that dies frees its endpoints soon.
func (w *Worker) claimFor() time.Duration { return 4 * w.Timeout }

// Run delivers every interval until ctx ends.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	w.init()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Error("webhook delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims the endpoints with due messages and delivers their due
// messages in order, stopping at an endpoint's first failure (its next
// message waits for the retry). It returns the number of attempts made.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.init()
	now := w.Now()
	eps, err := w.Store.ClaimWebhookEndpoints(ctx, w.Name, now, now.Add(w.claimFor()), w.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim webhook endpoints: %w", err)
	}
	attempts := 0
	for _, ep := range eps {
		n, err := w.drain(ctx, ep, now.Add(w.claimFor()))
		attempts += n
		if rerr := w.Store.ReleaseWebhookEndpoint(context.WithoutCancel(ctx), ep.ID, w.Name); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			return attempts, err
		}
	}
	return attempts, nil
}

// drain delivers ep's due messages until one fails, none is due or the
// claim (until) is too close to its end for another attempt.
func (w *Worker) drain(ctx context.Context, ep *Endpoint, until time.Time) (int, error) {
	n := 0
	for ctx.Err() == nil {
		now := w.Now()
		if now.Add(w.Timeout + time.Second).After(until) {
			return n, nil
		}
		m, err := w.Store.NextWebhookMessage(ctx, ep.ID)
		if kiosko.IsNotFound(err) {
			return n, nil
		} else if err != nil {
			return n, err
		}
		if m.NextAttemptAt.After(now) {
			return n, nil
		}
		a := w.send(ctx, ep, m, now)
		n++
		ok := a.Error == ""
		o := Outcome{Status: StatusDelivered}
		disable := false
		if !ok {
			if m.Attempts < len(Schedule) {
				o = Outcome{Status: StatusPending, Next: now.Add(Schedule[m.Attempts])}
			} else {
				o = Outcome{Status: StatusFailed}
				disable = ep.FailingSince != nil && now.Sub(*ep.FailingSince) >= DisableAfter
			}
		}
		if err := w.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), w.Name, a, o, disable); err != nil {
			if kiosko.ErrorCode(err) == kiosko.ECONFLICT {
				return n, nil // another worker holds the endpoint now
			}
			return n, err
		}
		w.Logger.Info("webhook attempt", "endpoint", ep.ID, "message", m.MsgID, "type", m.Type, "attempt", a.N,
			"status", a.StatusCode, "err", a.Error, "outcome", o.Status)
		if w.Observe != nil {
			outcome := o.Status
			if o.Status == StatusPending {
				outcome = "retried"
			}
			w.Observe(outcome)
		}
		if disable {
			w.Logger.Error("webhook endpoint disabled after a day of failures", "endpoint", ep.ID, "url", ep.URL)
			if w.OnDisable != nil {
				w.OnDisable(ctx, ep)
			}
		}
		if !ok {
			return n, nil
		}
		if ep.FailingSince != nil {
			ep.FailingSince = nil
		}
	}
	return n, ctx.Err()
}

// send makes one attempt.
func (w *Worker) send(ctx context.Context, ep *Endpoint, m *Message, now time.Time) *Attempt {
	a := &Attempt{MessageID: m.ID, EndpointID: ep.ID, N: m.Attempts + 1, At: now, Worker: w.Name}
	start := time.Now()
	code, err := w.post(ctx, ep, m, now)
	a.Duration = time.Since(start)
	a.StatusCode = code
	if err != nil {
		a.Error = err.Error()
	} else if code < 200 || code > 299 {
		a.Error = "HTTP " + strconv.Itoa(code)
	}
	return a
}

func (w *Worker) post(ctx context.Context, ep *Endpoint, m *Message, now time.Time) (int, error) {
	sig, err := Sign(ep.Secret, m.MsgID, now, m.Body)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(m.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kiosko-webhooks/1")
	req.Header.Set("webhook-id", m.MsgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
