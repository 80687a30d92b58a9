package main

import (
	"strings"
	"testing"
)

func TestSummaryShowsFailuresSkipsAndTheSlowest(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"k/a","Test":"TestFast"}`,
		`{"Action":"output","Package":"k/a","Test":"TestFast","Output":"=== RUN   TestFast\n"}`,
		`{"Action":"output","Package":"k/a","Test":"TestFast","Output":"    a_test.go:9: chatter of a passing test\n"}`,
		`{"Action":"pass","Package":"k/a","Test":"TestFast","Elapsed":0.01}`,
		`{"Action":"output","Package":"k/a","Test":"TestSlow","Output":"    a_test.go:19: the reason it failed\n"}`,
		`{"Action":"fail","Package":"k/a","Test":"TestSlow","Elapsed":12.5}`,
		`{"Action":"output","Package":"k/a","Test":"TestSlow/sub","Output":"sub\n"}`,
		`{"Action":"pass","Package":"k/a","Test":"TestSlow/sub","Elapsed":12.4}`,
		`{"Action":"output","Package":"k/a","Test":"TestNoBrowser","Output":"=== RUN   TestNoBrowser\n"}`,
		`{"Action":"output","Package":"k/a","Test":"TestNoBrowser","Output":"    b_test.go:3: chromium is not installed\n"}`,
		`{"Action":"skip","Package":"k/a","Test":"TestNoBrowser","Elapsed":0}`,
		`{"Action":"output","Package":"k/a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"k/a","Output":"FAIL\tk/a\t13.000s\n"}`,
		`{"Action":"fail","Package":"k/a","Elapsed":13}`,
	}, "\n")
	var out strings.Builder
	failed, err := summarize(strings.NewReader(in), &out, 10)
	if err != nil || !failed {
		t.Fatalf("failed = %v, err = %v; want a failure reported", failed, err)
	}
	got := out.String()
	for _, want := range []string{"the reason it failed", "chromium is not installed", "FAIL\tk/a", "12.50s  k/a.TestSlow\n    0.01s  k/a.TestFast"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"chatter of a passing test", "TestSlow/sub", "=== RUN   TestNoBrowser", "PASS\n"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("summary shows %q:\n%s", unwanted, got)
		}
	}

	failed, _ = summarize(strings.NewReader(`{"Action":"pass","Package":"k/a","Test":"TestFast","Elapsed":0.01}`), &out, 10)
	if failed {
		t.Error("a passing run is reported as failed")
	}
}
