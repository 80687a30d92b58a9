package bench

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
)

// bareAnswer is what kiosko answers a heartbeat, fixed.
var bareAnswer = []byte(`{"status":"reading","heartbeat_every":30,"lease_ttl":90,"sharing_warning":false}` + "\n")

// BareHandler is the ceiling: a net/http handler that decodes a small JSON
// body, as kiosko's heartbeat does, and answers a fixed small JSON, with
// none of the work of a real heartbeat.
func BareHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/reading/heartbeat", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Active *bool `json:"active"`
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || json.Unmarshal(body, &req) != nil {
			http.Error(w, `{"error":{"code":"invalid"}}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(bareAnswer)
	})
	return mux
}

// Server is an HTTP server on 127.0.0.1 with a free port.
type Server struct {
	Addr string
	srv  *http.Server
	ln   net.Listener
}

// Serve starts h on 127.0.0.1:0.
func Serve(h http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), srv: &http.Server{Handler: h}, ln: ln}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the run fails on its own when the server stops answering
		}
	}()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }
