// Package outbox holds SPEC §6's durable delivery of e-mail and SMS (stub; being built).
package outbox

// Service queues and delivers outgoing messages.
type Service struct{}
