// Package app holds agentdeck's domain — items, users, teams, who may see what,
// statuses and credits — and the store that keeps them. It knows nothing about
// HTTP or HTML.
package app

import (
	"errors"
	"fmt"
)

// Code says what kind of failure an *Error is. It is a type of its own, not a
// free string, so that every code is one of the constants below; handlers map
// each to exactly one HTTP status.
type Code string

// The error codes.
const (
	EConflict      Code = "conflict"      // the request contradicts what is stored
	EInternal      Code = "internal"      // a fault of ours
	EInvalid       Code = "invalid"       // malformed input
	ENotFound      Code = "not_found"     // absent, or not visible to the caller
	EUnprocessable Code = "unprocessable" // well-formed, but breaks a rule of §2
	EUnauthorized  Code = "unauthorized"  // no valid credentials
	EForbidden     Code = "forbidden"     // known to the caller, but not theirs to change
	ETooLarge      Code = "too_large"     // a body or batch over its limit
	ERateLimited   Code = "rate_limited"  // too many requests
)

// Codes lists every error code, for the table that maps them to statuses and
// the test that keeps that table total.
var Codes = []Code{EConflict, EInternal, EInvalid, ENotFound, EUnprocessable, EUnauthorized, EForbidden, ETooLarge, ERateLimited}

// Error is the one error type the domain returns for anything a caller can act
// on. Field names the offending input, when there is one.
type Error struct {
	Code    Code
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Is makes errors.Is match on the code, so ErrNotFound matches every not-found.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// ErrNotFound is returned for an absent item, and equally for one the caller
// may not see, so that existence never leaks.
var ErrNotFound = &Error{Code: ENotFound, Message: "not found"}

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorDetail returns the field and the human message of err; an internal error
// gets a generic message so that nothing about our internals reaches a client.
func ErrorDetail(err error) (field, message string) {
	var e *Error
	if errors.As(err, &e) {
		return e.Field, e.Message
	}
	return "", "internal error"
}
