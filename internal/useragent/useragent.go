// Package useragent turns a User-Agent header into a readable device name
// ("Firefox · Android") with a maintained parser.
package useragent

import (
	"sync"

	ua "github.com/medama-io/go-useragent"
)

var (
	once   sync.Once
	parser *ua.Parser
)

// Name returns "Browser · OS", one of them alone when the other is
// unknown, or "" when neither is (pages then say "unknown device").
func Name(userAgent string) string {
	if userAgent == "" {
		return ""
	}
	once.Do(func() { parser = ua.NewParser() })
	u := parser.Parse(userAgent)
	b, o := u.Browser().String(), u.OS().String()
	switch {
	case b != "" && o != "":
		return b + " · " + o
	case b != "":
		return b
	default:
		return o
	}
}
