// Package errcode holds the API's error codes and the one error type that
// carries them (docs/rules.md §11, API.md "Error codes"). Every package may import it;
// it imports nothing of Parley's.
//
// An error with a code is safe to show to the caller: its message was written
// for them. An error without a code is internal: httpapi logs it and answers
// 500 with a generic message, so internal detail never crosses the boundary.
package errcode

import (
	"errors"
	"fmt"
	"time"
)

// Code is a machine-readable error code of the API. The values are a contract.
type Code string

// The API's codes (API.md "Error codes").
const (
	BadRequest                 Code = "badRequest"
	Unauthenticated            Code = "unauthenticated"
	Forbidden                  Code = "forbidden"
	NotFound                   Code = "notFound"
	Conflict                   Code = "conflict"
	PayloadTooLarge            Code = "payloadTooLarge"
	ForbiddenByPolicy          Code = "forbiddenByPolicy"
	RecipientUnavailable       Code = "recipientUnavailable"
	MessageRequestLimitReached Code = "messageRequestLimitReached"
	ChatReadOnly               Code = "chatReadOnly"
	ExternalMemberNotAllowed   Code = "externalMemberNotAllowed"
	RateLimited                Code = "rateLimited"
	DomainTaken                Code = "domainTaken"
	PolicyInUse                Code = "policyInUse"
	MethodNotAllowed           Code = "methodNotAllowed"    // a known path asked with a method it does not take (405)
	ServiceNotAvailable        Code = "serviceNotAvailable" // Graph's code for a 503: not ready, or shutting down
	BadGateway                 Code = "badGateway"          // a bot did not answer, or not in time (502)
	Internal                   Code = "internalServerError"
)

// Error is an error with a code and a message safe to show to the caller.
type Error struct {
	Code    Code
	Message string
	// RetryAfter, when set, tells the caller when to try again (rateLimited).
	RetryAfter time.Duration
	// Err is an optional cause, kept for logs and errors.Is, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the code and a message for the caller.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the code and message that keeps err as its cause.
func Wrap(err error, code Code, message string) error {
	return &Error{Code: code, Message: message, Err: err}
}

// RateLimit returns a rateLimited error that tells the caller when to retry.
func RateLimit(retryAfter time.Duration, format string, args ...any) error {
	return &Error{Code: RateLimited, Message: fmt.Sprintf(format, args...), RetryAfter: retryAfter}
}

// Of returns the code of the first coded error in err's chain, or Internal.
func Of(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries the code.
func Is(err error, code Code) bool { return err != nil && Of(err) == code }

// Message returns the caller-safe message of err, or a generic one for
// internal errors.
func Message(err error) string {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Something went wrong on our side; it has been logged."
}

// RetryAfterOf returns the retry delay of a rateLimited error, or zero.
func RetryAfterOf(err error) time.Duration {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.RetryAfter
	}
	return 0
}
