package simulate

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTraces(t *testing.T) {
	t.Parallel()
	in := `{"account":"a","device":"phone","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}

{"account":"a","device":"laptop","start":"2026-03-02T09:00:00+01:00","end":"2026-03-02T09:30:00+01:00","active":false,"on_conflict":"leave","on_displaced":"retake"}
{"account":"b","device":"tablet","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z","on_displaced":"notice"}
`
	ivs, err := ParseTraces(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Interval{
		{Account: "a", Device: "phone", Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 8, 10, 0, 0, time.UTC),
			Active: true, OnConflict: ConflictContinue, OnDisplaced: DisplacedStop},
		{Account: "a", Device: "laptop", Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC),
			Active: false, OnConflict: ConflictLeave, OnDisplaced: DisplacedRetake},
		{Account: "b", Device: "tablet", Start: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 8, 10, 0, 0, time.UTC),
			Active: true, OnConflict: ConflictContinue, OnDisplaced: DisplacedNotice},
	}
	if len(ivs) != len(want) {
		t.Fatalf("got %d intervals, want %d", len(ivs), len(want))
	}
	for i := range want {
		if ivs[i] != want[i] {
			t.Errorf("interval %d:\n got %+v\nwant %+v", i, ivs[i], want[i])
		}
	}
}

func TestParseTracesBadLines(t *testing.T) {
	t.Parallel()
	good := `{"account":"a","device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}`
	lines := []string{
		good,
		`{"account":"a","device":"d","start":"yesterday","end":"2026-03-02T08:10:00Z"}`,
		good,
		`not json`,
		`{"device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}`,
		`{"account":"a","device":"d","start":"2026-03-02T08:10:00Z","end":"2026-03-02T08:00:00Z"}`,
		`{"account":"a","device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z","on_conflict":"fight"}`,
		`{"account":"a","device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z","on_displaced":"cry"}`,
		`{"account":"a","device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z","active":"yes"}`,
		`{"account":"a","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}`,
	}
	ivs, err := ParseTraces(strings.NewReader(strings.Join(lines, "\n")), nil)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *ParseError", err)
	}
	if ivs != nil {
		t.Errorf("got %d intervals from a bad file, want none", len(ivs))
	}
	wantLines := []int{2, 4, 5, 6, 7, 8, 9, 10}
	var got []int
	for _, l := range pe.Lines {
		got = append(got, l.Line)
		if l.Reason == "" {
			t.Errorf("line %d: no reason", l.Line)
		}
	}
	if !equalInts(got, wantLines) {
		t.Errorf("bad lines %v, want %v (%v)", got, wantLines, pe)
	}
	for _, want := range []string{"line 2:", `"start"`, "line 6:", "after", "line 7:", `"fight"`} {
		if !strings.Contains(pe.Error(), want) {
			t.Errorf("error %q does not mention %s", pe.Error(), want)
		}
	}
}

func TestParseTracesUnknownFieldWarns(t *testing.T) {
	t.Parallel()
	in := `{"account":"a","device":"d","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z","on_conflit":"leave"}`
	var warned []LineError
	ivs, err := ParseTraces(strings.NewReader(in), func(l LineError) { warned = append(warned, l) })
	if err != nil || len(ivs) != 1 {
		t.Fatalf("ParseTraces = %d, %v", len(ivs), err)
	}
	if len(warned) != 1 || warned[0].Line != 1 || !strings.Contains(warned[0].Reason, "on_conflit") {
		t.Errorf("warnings %v, want one about on_conflit on line 1", warned)
	}
}

func TestWriteTracesRoundTrip(t *testing.T) {
	t.Parallel()
	ivs := Generate(GenConfig{Seed: 3, Days: 3, Honest: 12, Household: 3, Sharer: 3})
	var buf bytes.Buffer
	if err := WriteTraces(&buf, ivs); err != nil {
		t.Fatal(err)
	}
	back, err := ParseTraces(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(ivs) {
		t.Fatalf("read back %d intervals, wrote %d", len(back), len(ivs))
	}
	for i := range ivs {
		if back[i] != ivs[i] {
			t.Fatalf("interval %d:\n got %+v\nwant %+v", i, back[i], ivs[i])
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
