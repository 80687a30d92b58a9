// Package metrics is what kiosko tells Prometheus: HTTP requests and their
// latency by route pattern, the reading rule's counters, push latency and
// open event streams, newsletter messages and webhook deliveries by
// result, fail-open reads, database and Redis errors, and the Go runtime.
// One Metrics is made per server (no package-level registry), so tests
// that start several servers in one process each count their own.
//
// Other capabilities count through the exported collectors, for example
// m.WebhookDeliveries.WithLabelValues("delivered").Inc(); docs/operations.md
// lists every name, and docs/grafana-dashboard.json draws them.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kiosko/kiosko"
)

// Newsletter and webhook results, the values of their "result" label.
const (
	ResultSent      = "sent"
	ResultBounced   = "bounced"
	ResultFailed    = "failed"
	ResultRetried   = "retried"
	ResultUnknown   = "unknown"
	ResultDelivered = "delivered"
)

// AdminActions are the console's actions, the values of the "action"
// label of kiosko_admin_actions_total.
var AdminActions = []string{"grant_plan", "revoke_plan", "set_seats", "clear_warning", "sign_out_everywhere", "send_reset", "save_plan", "free_seat", "delete", "revoke_api_key"}

// Metrics holds the collectors of one server.
type Metrics struct {
	Registry *prometheus.Registry

	HTTPRequests *prometheus.CounterVec   // route, method, status
	HTTPDuration *prometheus.HistogramVec // route, method
	PushLatency  prometheus.Histogram     // publishing a notice to the hub
	EventStreams prometheus.Gauge         // open event streams on this node
	Newsletter   *prometheus.CounterVec   // result: sent, bounced, failed, retried, unknown
	// WebhookDeliveries counts attempts of outgoing webhooks by result
	// ("delivered", "failed", "retried"); the webhook worker increments it.
	WebhookDeliveries *prometheus.CounterVec
	DatabaseErrors    prometheus.Counter
	RedisErrors       prometheus.Counter
	AdminActions      *prometheus.CounterVec // action
}

// New makes the collectors and registers them, with those that read the
// reading rule's counters (rm may be nil) and the Go runtime's.
func New(rm *kiosko.ReadingMetrics) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kiosko_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status."}, []string{"route", "method", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kiosko_http_request_duration_seconds",
			Help: "Time to answer HTTP requests (event streams excluded), by route pattern and method.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}},
			[]string{"route", "method"}),
		PushLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kiosko_push_publish_seconds",
			Help: "Time to hand a notice (displaced, signed out, sharing warning) to the push hub.", Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}),
		EventStreams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kiosko_event_streams",
			Help: "Event streams (GET /api/v1/reading/events) open on this node."}),
		Newsletter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kiosko_newsletter_messages_total",
			Help: "Newsletter messages by result: sent, bounced, failed, retried, unknown."}, []string{"result"}),
		WebhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kiosko_webhook_deliveries_total",
			Help: "Attempts to deliver outgoing webhooks, by result."}, []string{"result"}),
		DatabaseErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "kiosko_database_errors_total",
			Help: "Database statements, transactions and connections that failed (not found and conflicts are answers, not failures)."}),
		RedisErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "kiosko_redis_errors_total",
			Help: "Redis commands that failed (a missing key is not a failure)."}),
		AdminActions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kiosko_admin_actions_total",
			Help: "Actions taken in the publisher console, by action."}, []string{"action"}),
	}
	reg.MustRegister(m.HTTPRequests, m.HTTPDuration, m.PushLatency, m.EventStreams, m.Newsletter,
		m.WebhookDeliveries, m.DatabaseErrors, m.RedisErrors, m.AdminActions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series present at 0 before the first one happens, so rates and
	// alerts work from the start.
	for _, r := range []string{ResultSent, ResultBounced, ResultFailed, ResultRetried, ResultUnknown} {
		m.Newsletter.WithLabelValues(r)
	}
	for _, r := range []string{ResultDelivered, ResultFailed, ResultRetried} {
		m.WebhookDeliveries.WithLabelValues(r)
	}
	for _, a := range AdminActions {
		m.AdminActions.WithLabelValues(a)
	}
	if rm == nil {
		rm = &kiosko.ReadingMetrics{}
	}
	counter := func(name, help string, v interface{ Load() int64 }) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) }))
	}
	counter("kiosko_reading_claims_total", "Claims of a reading lease.", &rm.Claims)
	counter("kiosko_reading_heartbeats_total", "Heartbeats of reading pages.", &rm.Heartbeats)
	counter("kiosko_reading_takeovers_total", "Takeovers (continue reading here).", &rm.Takeovers)
	counter("kiosko_reading_conflicts_total", "Claims refused because another device reads.", &rm.Conflicts)
	counter("kiosko_reading_contested_total", "Takeovers from a device a person was using (contested).", &rm.Contested)
	counter("kiosko_reading_counted_total", "Takeovers that counted towards a sharing warning: a person was seen at the displaced device right after.", &rm.Counted)
	counter("kiosko_reading_presence_reports_total", "Displaced pages' reports that a person was there.", &rm.Reports)
	counter("kiosko_sharing_warnings_set_total", "Seats put under sharing warning.", &rm.WarningsSet)
	counter("kiosko_lease_store_fail_open_total", "Reading allowed because the lease store was unreachable.", &rm.FailOpen)
	counter("kiosko_lease_events_dropped_total", "Lease events dropped because the writer fell behind.", &rm.EventsDropped)
	return m
}

// Newsletter outcome names (kiosko.Delivery*) mapped to the result label.
func newsletterResult(outcome string) string {
	switch outcome {
	case kiosko.DeliverySent:
		return ResultSent
	case kiosko.SubscriberBounced:
		return ResultBounced
	case kiosko.DeliveryFailed:
		return ResultFailed
	case kiosko.DeliveryPending:
		return ResultRetried
	}
	return ResultUnknown
}

// CountNewsletter counts one newsletter delivery's outcome; it is the
// kiosko.Newsletter's OnDelivery hook.
func (m *Metrics) CountNewsletter(outcome string) {
	m.Newsletter.WithLabelValues(newsletterResult(outcome)).Inc()
}

// CountWebhook counts one webhook attempt by its outcome (delivered,
// pending: to be retried, failed: given up); it is the webhook worker's
// OnAttempt hook.
func (m *Metrics) CountWebhook(outcome string) {
	switch outcome {
	case "delivered":
		m.WebhookDeliveries.WithLabelValues(ResultDelivered).Inc()
	case "pending":
		m.WebhookDeliveries.WithLabelValues(ResultRetried).Inc()
	default:
		m.WebhookDeliveries.WithLabelValues(ResultFailed).Inc()
	}
}

// Handler answers /metrics in the Prometheus text format. With a token,
// only a request carrying "Authorization: Bearer <token>" is answered;
// others get 401 and learn nothing.
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(strings.TrimSpace(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need Authorization: Bearer <KIOSKO_METRICS_TOKEN>", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Hub wraps a push hub to time Publish and count open subscriptions
// (every event stream holds one).
func (m *Metrics) Hub(h kiosko.Hub) kiosko.Hub { return &hub{Hub: h, m: m} }

type hub struct {
	kiosko.Hub
	m *Metrics
}

func (h *hub) Publish(ctx context.Context, n kiosko.Notice) error {
	start := time.Now()
	err := h.Hub.Publish(ctx, n)
	h.m.PushLatency.Observe(time.Since(start).Seconds())
	return err
}

func (h *hub) Subscribe(accountID int64, device string) (<-chan kiosko.Notice, func()) {
	ch, cancel := h.Hub.Subscribe(accountID, device)
	h.m.EventStreams.Inc()
	var once sync.Once
	return ch, func() {
		once.Do(h.m.EventStreams.Dec)
		cancel()
	}
}
