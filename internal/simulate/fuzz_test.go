package simulate

import (
	"strings"
	"testing"
)

// FuzzParseTraces: any file either parses into intervals that end after
// they start, or is refused with line numbers inside the file.
func FuzzParseTraces(f *testing.F) {
	f.Add(`{"account":"a","device":"d","start":"2026-03-02T09:00:00Z","end":"2026-03-02T09:30:00Z"}` + "\n")
	f.Add(`{"account":"a","device":"d","start":"2026-03-02T09:00:00Z","end":"2026-03-02T08:00:00Z","on_conflict":"leave"}`)
	f.Add("\n\n{\"account\":1}\nnot json\n")
	f.Fuzz(func(t *testing.T, data string) {
		ivs, err := ParseTraces(strings.NewReader(data), nil)
		if err != nil {
			if pe, ok := err.(*ParseError); ok {
				lines := strings.Count(data, "\n") + 1
				for _, l := range pe.Lines {
					if l.Line < 1 || l.Line > lines {
						t.Fatalf("error on line %d of a %d-line file", l.Line, lines)
					}
				}
			}
			if len(ivs) != 0 {
				t.Fatal("intervals returned with an error")
			}
			return
		}
		for _, iv := range ivs {
			if !iv.End.After(iv.Start) || iv.Account == "" || iv.Device == "" {
				t.Fatalf("accepted a bad interval %+v", iv)
			}
		}
	})
}
