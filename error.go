package kiosko

import (
	"errors"
	"fmt"
)

// Error codes a user may see. Each maps to one HTTP status in the API.
const (
	ECONFLICT       = "conflict"         // already exists, or a race was lost
	EINTERNAL       = "internal"         // never shown in detail
	EINVALID        = "invalid"          // bad input
	ENOTFOUND       = "not_found"        // no such thing
	EUNAUTHORIZED   = "unauthorized"     // not signed in, or the session ended
	EFORBIDDEN      = "forbidden"        // signed in, but not allowed (e.g. wrong current password)
	ETOOMANY        = "too_many"         // rate limited
	EPAYMENT        = "payment_required" // needs a subscription
	EUNAVAILABLE    = "unavailable"      // a dependency is down
	ENOTIMPLEMENTED = "not_implemented"  // e.g. online payment not configured
	ETOOLARGE       = "too_large"        // the request body is over its cap
	EGONE           = "gone"             // existed, and was taken down (an unpublished article)
)

// Error is an error a user may see. Key names the message in the i18n
// catalogs (files errors.*.json); Message is the English text for logs and
// for callers without a catalog.
type Error struct {
	Code    string
	Key     string
	Message string
	Field   string // the form field at fault, when there is one
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("kiosko error: code=%s key=%s message=%s", e.Code, e.Key, e.Message)
}

// Errorf builds an *Error. key names the catalog message.
func Errorf(code, key, format string, args ...any) *Error {
	return &Error{Code: code, Key: key, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an EINVALID *Error about one form field.
func FieldError(field, key, message string) *Error {
	return &Error{Code: EINVALID, Key: key, Message: message, Field: field}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorKey returns the catalog key of err, or "error.internal".
func ErrorKey(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Key != "" {
		return e.Key
	}
	return "error.internal"
}

// ErrorMessage returns the English message of err, hiding internal details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorField returns the form field of err, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// IsNotFound reports whether err is an ENOTFOUND error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
