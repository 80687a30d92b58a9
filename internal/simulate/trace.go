// Package simulate replays reading traces through the real reading rule
// (kiosko.Reading on the in-memory lease engine) on a simulated clock, and
// generates traces of honest readers, households and sharers, so the
// rule's fairness is a number (DESIGN.md, "Fairness, measured").
package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// What a device does when it meets another device's lease, and when it
// learns it was displaced.
const (
	ConflictContinue = "continue" // take over ("continue reading here")
	ConflictLeave    = "leave"    // give up this interval
	DisplacedStop    = "stop"     // nobody touches the displaced page again
	DisplacedNotice  = "notice"   // a person there sees the message, interacts with it, and stops
	DisplacedRetake  = "retake"   // take the lease back
)

// Interval is one line of a trace: a device shows a subscriber article from
// Start to End.
type Interval struct {
	Account     string
	Device      string
	Start, End  time.Time
	Active      bool // a person interacts with the page
	OnConflict  string
	OnDisplaced string
}

// line is the JSON spelling of an Interval.
type line struct {
	Account     string  `json:"account"`
	Device      string  `json:"device"`
	Start       string  `json:"start"`
	End         string  `json:"end"`
	Active      *bool   `json:"active,omitempty"`
	OnConflict  *string `json:"on_conflict,omitempty"`
	OnDisplaced *string `json:"on_displaced,omitempty"`
}

var knownFields = map[string]bool{"account": true, "device": true, "start": true, "end": true,
	"active": true, "on_conflict": true, "on_displaced": true}

// LineError is a trace line that does not parse.
type LineError struct {
	Line   int
	Reason string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ParseError lists every bad line of a trace file.
type ParseError struct{ Lines []LineError }

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad trace line(s)", len(e.Lines))
	for i, l := range e.Lines {
		if i == 20 {
			fmt.Fprintf(&b, "\n... and %d more", len(e.Lines)-i)
			break
		}
		b.WriteString("\n" + l.Error())
	}
	return b.String()
}

// ParseTraces reads one JSON object per line. Blank lines are skipped. Every
// line is checked before anything is returned: a file with bad lines gives
// a *ParseError listing all of them (line numbers from 1) and no
// intervals. Unknown fields are not errors (a trace may carry notes), but
// warn is called for each, so a misspelt "on_conflict" does not pass
// unnoticed; warn may be nil.
func ParseTraces(r io.Reader, warn func(LineError)) ([]Interval, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var (
		out []Interval
		bad []LineError
	)
	n := 0
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		iv, unknown, err := parseLine(raw)
		if err != nil {
			bad = append(bad, LineError{Line: n, Reason: err.Error()})
			continue
		}
		if warn != nil {
			for _, f := range unknown {
				warn(LineError{Line: n, Reason: fmt.Sprintf("unknown field %q ignored", f)})
			}
		}
		out = append(out, iv)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read traces: line %d: %w", n+1, err)
	}
	if len(bad) > 0 {
		return nil, &ParseError{Lines: bad}
	}
	return out, nil
}

func parseLine(raw []byte) (Interval, []string, error) {
	var l line
	if err := json.Unmarshal(raw, &l); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return Interval{}, nil, fmt.Errorf("not a JSON object: %v", err)
		case errors.As(err, &te):
			return Interval{}, nil, fmt.Errorf("field %q: want a %s, got %s", te.Field, te.Type, te.Value)
		}
		return Interval{}, nil, fmt.Errorf("not a trace object: %v", err)
	}
	var unknown []string
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) == nil {
		for k := range fields {
			if !knownFields[k] {
				unknown = append(unknown, k)
			}
		}
	}
	iv := Interval{Account: l.Account, Device: l.Device, Active: true, OnConflict: ConflictContinue, OnDisplaced: DisplacedStop}
	if strings.TrimSpace(l.Account) == "" {
		return iv, nil, errors.New(`"account" is missing or empty`)
	}
	if strings.TrimSpace(l.Device) == "" {
		return iv, nil, errors.New(`"device" is missing or empty`)
	}
	var err error
	if iv.Start, err = parseTime("start", l.Start); err != nil {
		return iv, nil, err
	}
	if iv.End, err = parseTime("end", l.End); err != nil {
		return iv, nil, err
	}
	if !iv.End.After(iv.Start) {
		return iv, nil, fmt.Errorf(`"end" (%s) must be after "start" (%s)`, l.End, l.Start)
	}
	if l.Active != nil {
		iv.Active = *l.Active
	}
	if l.OnConflict != nil {
		switch *l.OnConflict {
		case ConflictContinue, ConflictLeave:
			iv.OnConflict = *l.OnConflict
		default:
			return iv, nil, fmt.Errorf(`"on_conflict" is %q; want "continue" or "leave"`, *l.OnConflict)
		}
	}
	if l.OnDisplaced != nil {
		switch *l.OnDisplaced {
		case DisplacedStop, DisplacedNotice, DisplacedRetake:
			iv.OnDisplaced = *l.OnDisplaced
		default:
			return iv, nil, fmt.Errorf(`"on_displaced" is %q; want "stop", "notice" or "retake"`, *l.OnDisplaced)
		}
	}
	return iv, unknown, nil
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("%q is missing", field)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is %q, not an RFC 3339 time (e.g. 2026-03-02T08:15:00Z)", field, v)
	}
	return t.UTC(), nil
}

// WriteTraces writes intervals as JSON lines, leaving out fields that have
// their default value.
func WriteTraces(w io.Writer, ivs []Interval) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	buf := make([]byte, 0, 256)
	for _, iv := range ivs {
		buf = appendLine(buf[:0], iv)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendLine(b []byte, iv Interval) []byte {
	b = append(b, `{"account":`...)
	b = appendString(b, iv.Account)
	b = append(b, `,"device":`...)
	b = appendString(b, iv.Device)
	b = append(b, `,"start":"`...)
	b = iv.Start.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","end":"`...)
	b = iv.End.UTC().AppendFormat(b, time.RFC3339)
	b = append(b, '"')
	if !iv.Active {
		b = append(b, `,"active":false`...)
	}
	if iv.OnConflict != "" && iv.OnConflict != ConflictContinue {
		b = append(b, `,"on_conflict":`...)
		b = appendString(b, iv.OnConflict)
	}
	if iv.OnDisplaced != "" && iv.OnDisplaced != DisplacedStop {
		b = append(b, `,"on_displaced":`...)
		b = appendString(b, iv.OnDisplaced)
	}
	return append(b, "}\n"...)
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
