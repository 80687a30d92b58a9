package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics with the Prometheus text parser, so a malformed
// exposition fails here as it would in Prometheus.
func scrape(t *testing.T, m *Main, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", m.URL()+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", res.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// value sums the samples of a family whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
	var sum float64
next:
	for _, mt := range f.Metric {
		for k, v := range want {
			found := false
			for _, l := range mt.Label {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case mt.Counter != nil:
			sum += mt.Counter.GetValue()
		case mt.Gauge != nil:
			sum += mt.Gauge.GetValue()
		case mt.Histogram != nil:
			sum += float64(mt.Histogram.GetSampleCount())
		}
	}
	return sum
}

// TestMetricsMove: the exposition parses, and requests, claims, conflicts
// and takeovers move their series, labelled by route pattern.
func TestMetricsMove(t *testing.T) {
	m := startMain(t)
	before := scrape(t, m, "")
	for _, name := range []string{"go_goroutines", "kiosko_reading_claims_total", "kiosko_lease_store_fail_open_total",
		"kiosko_newsletter_messages_total", "kiosko_event_streams", "kiosko_push_publish_seconds"} {
		if before[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	article := subscriberArticle(t, m.URL())
	a := signInAPI(t, m.URL(), "digital@kiosko.test", "kiosko-demo-2026", "device-metr-1")
	b := signInAPI(t, m.URL(), "digital@kiosko.test", "kiosko-demo-2026", "device-metr-2")
	if code, _ := call(t, "POST", m.URL()+"/api/v1/reading/claim", a, map[string]any{"article": article}); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	if code, _ := call(t, "POST", m.URL()+"/api/v1/reading/claim", b, map[string]any{"article": article}); code != 409 {
		t.Fatalf("second claim: %d", code)
	}
	if code, _ := call(t, "POST", m.URL()+"/api/v1/reading/takeover", b, map[string]any{"article": article}); code != 200 {
		t.Fatalf("takeover: %d", code)
	}
	if res, err := http.Get(m.URL() + "/es/"); err != nil || res.StatusCode != 200 {
		t.Fatalf("front page: %v", err)
	} else {
		res.Body.Close()
	}
	type rise struct {
		name   string
		labels map[string]string
		by     float64
	}
	want := []rise{
		{"kiosko_reading_claims_total", nil, 2},
		{"kiosko_reading_conflicts_total", nil, 1},
		{"kiosko_reading_takeovers_total", nil, 1},
		{"kiosko_http_requests_total", map[string]string{"route": "/api/v1/reading/claim", "method": "POST", "status": "409"}, 1},
		{"kiosko_http_requests_total", map[string]string{"route": "/{edition}/{$}", "method": "GET", "status": "200"}, 1},
		{"kiosko_http_request_duration_seconds", map[string]string{"route": "/api/v1/reading/takeover"}, 1},
		{"kiosko_push_publish_seconds", nil, 1}, // the displaced notice
	}
	// A request is counted once its handler returns, which may be just
	// after the client has read the answer: look again for a moment.
	var missing []string
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after := scrape(t, m, "")
		missing = nil
		for _, c := range want {
			was := max(value(before, c.name, c.labels), 0)
			if got := value(after, c.name, c.labels); got < was+c.by {
				missing = append(missing, fmt.Sprintf("%s%v: %v -> %v, want a rise of %v", c.name, c.labels, was, got, c.by))
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, s := range missing {
		t.Error(s)
	}
}

// TestMetricsToken: with KIOSKO_METRICS_TOKEN set, /metrics answers only
// the right bearer token.
func TestMetricsToken(t *testing.T) {
	m := startMain(t, "--metrics-token", "s3cret-scrape-token")
	for _, h := range []string{"", "Bearer wrong", "Bearer s3cret-scrape-tokenX", "s3cret-scrape-token", "Basic czNjcmV0"} {
		req, _ := http.NewRequest("GET", m.URL()+"/metrics", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: status %d, want 401", h, res.StatusCode)
		}
	}
	if fams := scrape(t, m, "s3cret-scrape-token"); fams["kiosko_http_requests_total"] == nil {
		t.Error("the right token does not get the metrics")
	}
}

// TestJSONLogs: KIOSKO_LOG_FORMAT=json writes one JSON object a line, and
// every request gets an access line with its route and no token.
func TestJSONLogs(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := parseConfig(fs, []string{"--log-format", "json"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	newLogger(cfg, &buf).Info("hello", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "hello" {
		t.Fatalf("json log line %q: %v", buf.String(), err)
	}
	if _, err := parseConfig(flag.NewFlagSet("t", flag.ContinueOnError), []string{"--log-format", "xml"}); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Fatalf("a bad log format: %v", err)
	}
}
