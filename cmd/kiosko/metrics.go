package main

import (
	"fmt"
	"net/http"
	"runtime"
)

// metrics answers /metrics in the Prometheus text format.
func (m *Main) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	rm := m.Reading.Metrics
	counter := func(name, help string, v int64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", name, help, name, name, v)
	}
	counter("kiosko_reading_claims_total", "Claims of a reading lease.", rm.Claims.Load())
	counter("kiosko_reading_heartbeats_total", "Heartbeats of reading pages.", rm.Heartbeats.Load())
	counter("kiosko_reading_takeovers_total", "Takeovers (continue reading here).", rm.Takeovers.Load())
	counter("kiosko_reading_conflicts_total", "Claims refused because another device reads.", rm.Conflicts.Load())
	counter("kiosko_reading_contested_total", "Takeovers from a device a person was using (contested).", rm.Contested.Load())
	counter("kiosko_reading_counted_total", "Takeovers that counted towards a sharing warning: a person was seen at the displaced device right after.", rm.Counted.Load())
	counter("kiosko_reading_presence_reports_total", "Displaced pages' reports that a person was there.", rm.Reports.Load())
	counter("kiosko_sharing_warnings_set_total", "Seats put under sharing warning.", rm.WarningsSet.Load())
	counter("kiosko_lease_store_fail_open_total", "Reading allowed because the lease store was unreachable.", rm.FailOpen.Load())
	counter("kiosko_lease_events_dropped_total", "Lease events dropped because the writer fell behind.", rm.EventsDropped.Load())
	fmt.Fprintf(w, "# HELP go_goroutines Goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
}
