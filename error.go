package geopulse

import (
	"errors"
	"fmt"
)

// Error codes. They are stable: clients and the HTTP layer switch on them.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOMANY      = "too_many_requests"
	ETOOLARGE     = "too_large"
	EINTERNAL     = "internal"
)

// Error is a domain error: a machine-readable Code, a Reason that narrows it
// (for per-item rejections, e.g. "invalid_coordinates") and a Message that is
// safe to show to the user. Anything else is an internal error whose details
// are logged, never returned.
type Error struct {
	Code    string
	Reason  string
	Message string
}

func (e *Error) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("geopulse error: code=%s reason=%s message=%s", e.Code, e.Reason, e.Message)
	}
	return fmt.Sprintf("geopulse error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Reject returns an EINVALID *Error with a reason, for a single bad item.
func Reject(reason, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorReason returns the reason of the first *Error in err's chain, or "".
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorMessage returns the user-safe message of err; internal errors get a
// generic message so that no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Rejection reasons for posts and places. A rejected item carries one of these
// in Error.Reason; they are part of the API contract.
const (
	ReasonMalformedJSON      = "malformed_json"
	ReasonInvalidField       = "invalid_field"
	ReasonMissingField       = "missing_field"
	ReasonInvalidCoordinates = "invalid_coordinates"
	ReasonFutureTimestamp    = "future_timestamp"
	ReasonInvalidUTF8        = "invalid_utf8"
	ReasonTooLarge           = "too_large"
	ReasonPrivateAccount     = "private_account"
	ReasonInvalidGeometry    = "invalid_geometry"
	ReasonUnsupportedVersion = "unsupported_version"
	// ReasonNoLocation: a source item without a usable location (none, or
	// the 0,0 that some platforms send for "none"); geopulse keeps only
	// located posts.
	ReasonNoLocation = "no_location"
	// ReasonSuppressed: the account or handle is on the suppression list
	// (deleted, protected, or the person objected).
	ReasonSuppressed = "suppressed"
	// ReasonDeletedAtSource: the post was deleted or geo-scrubbed at its
	// source (tombstoned) and may not come back.
	ReasonDeletedAtSource = "deleted_at_source"
	// ReasonUnsupported: an item of a kind the format defines but geopulse
	// does not collect (a comment, an insight, a publishing container).
	ReasonUnsupported = "unsupported"
)
