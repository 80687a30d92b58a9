package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/kiosko/kiosko"
)

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 64 << 10

var (
	errBadJSON      = kiosko.Errorf(kiosko.EINVALID, "error.bad_json", "The request body is not valid JSON of the expected shape.")
	errBodyTooLarge = kiosko.Errorf(kiosko.ETOOLARGE, "error.body_too_large", "The request body is too large.")
)

// DecodeJSON reads a JSON object from the request body into v. Unknown
// fields are ignored, so clients may send more than a call needs; a value
// of the wrong type, anything but one object, or a body over MaxBodyBytes
// is an EINVALID error to answer with Handler.Error. An empty body is an
// error too, unless optional is true, when it reads as {}.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return errBadJSON
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 && optional {
		return nil
	}
	// Only an object: json.Unmarshal would take null (or a bare 1 into an
	// interface) without complaint.
	if len(data) == 0 || data[0] != '{' {
		return errBadJSON
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errBadJSON
	}
	return nil
}

// decode is DecodeJSON answering the error itself; it reports whether the
// handler may go on.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, v any, optional bool) bool {
	if err := DecodeJSON(w, r, v, optional); err != nil {
		h.Error(w, r, err)
		return false
	}
	return true
}
