// Package policy decides who may chat with whom across organisational
// boundaries: the tenant-level external access settings (docs/rules.md §2), the
// per-user external access policies (docs/rules.md §3) and the decision of docs/rules.md §4
// (MayStart, MayTalk, and MayMeet for who may share one chat), classified
// by the rule of silence into what the sender may be told and what must
// stay silent. Block and decline state of a pair (docs/rules.md §5) enters as a
// Relation.
//
// The decision is pure: MayStart, MayTalk, MayMeet, Admits and their types
// (doc.go, policy.go, settings.go, decision.go) do no I/O, read no clock,
// keep no state, import nothing of Parley's but errcode, and allocate
// nothing.
// Callers load both parties (kind, tenant, address domain, tenant settings,
// effective policy, personal switch) and the pair's relation, then call one
// function; every path that creates a chat, adds a member, delivers a
// request or sends a message, as well as Explain and audit, calls the same
// function and gets the same Decision with its ordered list of checks. A
// test keeps those files to their imports.
//
// Any package may import policy. Like every domain package it never imports
// net/http, database/sql, store or httpapi.
package policy
