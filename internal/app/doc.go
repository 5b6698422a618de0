// Package app holds docs/rules.md §9: a tenant's app catalog (Teams app
// packages and their manifests), bot registrations, installs in chats,
// channels, meetings and personal scopes, app permission and setup
// policies, and the pure decision May of who may do what with an app
// (decision.go, policy.go). It is a domain package: no SQL, no HTTP; the
// Bot Framework wire protocol is internal/bot's. httpapi and server import it.
package app
