// Package audit holds SPEC §10's per-tenant audit log (stub; being built).
package audit

// Service records and lists audit entries.
type Service struct{}
