// Package errs is Lakebox's error vocabulary: every error that crosses a
// subsystem boundary carries a Kind (what class of failure, mapped to a status
// by each API surface) and a stable Reason (a machine-readable code such as
// TABLE_DOES_NOT_EXIST that surfaces may put on the wire).
//
// Subsystems construct errors with E and inspect them with KindOf / ReasonOf;
// they never match on message text.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error. API surfaces map each kind to one status code.
type Kind int

// The kinds of error. Internal is the zero value so that an unclassified error
// is never mistaken for a client error.
const (
	Internal           Kind = iota // unexpected failure; detail is logged, not shown
	Invalid                        // the request is malformed or a value is out of range
	NotFound                       // the named thing does not exist
	AlreadyExists                  // the named thing exists already
	Conflict                       // a concurrent change won (optimistic concurrency, put-if-absent)
	PermissionDenied               // the caller is known but not allowed
	Unauthenticated                // no valid credentials
	FailedPrecondition             // the system is not in a state where this is allowed
	TooLarge                       // the request or payload exceeds a limit
	ResourceExhausted              // rate or concurrency limits
	Unimplemented                  // the operation or feature is not supported
	Unavailable                    // a backend is unreachable; retrying may help
	Canceled                       // the caller gave up (context canceled or deadline)
)

var kindNames = [...]string{
	Internal:           "internal",
	Invalid:            "invalid",
	NotFound:           "not_found",
	AlreadyExists:      "already_exists",
	Conflict:           "conflict",
	PermissionDenied:   "permission_denied",
	Unauthenticated:    "unauthenticated",
	FailedPrecondition: "failed_precondition",
	TooLarge:           "too_large",
	ResourceExhausted:  "resource_exhausted",
	Unimplemented:      "unimplemented",
	Unavailable:        "unavailable",
	Canceled:           "canceled",
}

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified error. Msg is safe to show to the caller; Err (if any)
// is the underlying cause and may hold detail that is only logged.
type Error struct {
	Kind   Kind
	Reason string // stable, upper-snake-case code, e.g. "TABLE_DOES_NOT_EXIST"
	Msg    string // human-readable, safe for clients
	Err    error  // optional cause
}

// Error implements error.
func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Kind.String()
	}
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error with a formatted message. If the last argument is an
// error that is not consumed by a format verb, it is NOT treated specially;
// use Wrap to attach a cause.
func E(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error with a cause. The cause's text is not part of Msg, so
// it is logged but not shown to clients unless the surface chooses to.
func Wrap(kind Kind, reason string, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: reason, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of the first *Error in err's chain. Context
// cancellation maps to Canceled; anything else unclassified is Internal.
func KindOf(err error) Kind {
	if err == nil {
		return Internal
	}
	if e := As(err); e != nil {
		return e.Kind
	}
	if isContextErr(err) {
		return Canceled
	}
	return Internal
}

// ReasonOf returns the reason of the first *Error in err's chain, or "".
func ReasonOf(err error) string {
	if e := As(err); e != nil {
		return e.Reason
	}
	return ""
}

// Is reports whether err is classified with kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// Message returns the client-safe message of err: the Msg of its *Error, or a
// generic text for unclassified errors (whose detail must only be logged).
func Message(err error) string {
	if e := As(err); e != nil && e.Kind != Internal {
		return e.Error()
	}
	if e := As(err); e != nil && e.Msg != "" {
		return e.Msg
	}
	return "internal error"
}
