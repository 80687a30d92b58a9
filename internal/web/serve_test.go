package web

import (
	"os"
	"testing"
	"time"
)

// TestServe keeps a demo site running for looking at it in a browser:
//
//	KIOSKO_WEB_SERVE=1 go test -run TestServe -timeout 0 ./internal/web/
func TestServe(t *testing.T) {
	if os.Getenv("KIOSKO_WEB_SERVE") == "" {
		t.Skip("set KIOSKO_WEB_SERVE=1 to run a demo site")
	}
	e := newEnv(t)
	e.clock.now = time.Now().UTC()
	t.Logf("site at %s", e.srv.URL)
	os.WriteFile(os.Getenv("KIOSKO_WEB_SERVE"), []byte(e.srv.URL), 0o644)
	select {}
}
