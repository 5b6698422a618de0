// Package audit holds docs/rules.md §10's per-tenant audit log: who changed a
// setting, policy or grant, who created an external chat, who accepted,
// declined, blocked or reported a request, who sent or redeemed an
// invitation. Entries are append-only; a tenant admin lists them (newest
// first) and exports them (JSON lines, oldest first).
//
// It is a domain package: it imports no storage, HTTP or SQL package. Other
// domain services get Service.Record as a hook (a method value), never the
// Service, so they need not import audit; internal/server wires it, and
// httpapi and cli call List and Export.
//
// # Actions
//
// Action names are "<resource>.<verb>", so a Filter's Action prefix
// "externalAccessPolicy." selects one resource. The target is what the
// action is about; details carry what an admin needs to judge it.
//
//   - federationConfiguration.update: target the tenant id; details
//     "before" and "after" (the settings).
//   - externalAccessPolicy.create: target the policy name; details "policy".
//   - externalAccessPolicy.update: target the policy name; details "before"
//     and "after".
//   - externalAccessPolicy.delete: target the policy name; details
//     "usersReset" (grants reset to Global).
//   - externalAccessPolicy.grant: target the policy name; details "userIds".
//   - chat.externalCreated: target the chat id; details the external
//     members.
//   - request.accepted, request.declined, request.blocked,
//     request.reportedSpam: actor the answering user, target the sender's
//     user id; details "chatId", "from", "to". Recorded in the answering
//     user's tenant and, when it differs, the sender's.
//   - invitation.sent: reserved, not recorded: an entry only for addresses
//     without an account would tell the sender's admins which have one;
//     chat.externalCreated covers every chat started by address.
//   - invitation.redeemed: actor the new personal account, target the
//     chat id; recorded in the inviter's tenant.
//   - user.blocked, user.unblocked: target the blocked user id.
//   - user.created: target the new user id; details kind and role.
//   - team.created: target the team id; details "displayName",
//     "generalChannelId".
//   - team.memberAdded, team.memberRemoved: target the team id; details
//     "userId" and "guest" (true for a guest; memberAdded adds "roles").
//   - team.memberRolesChanged: target the team id; details "userId",
//     "before", "after".
//   - team.channelCreated, team.channelDeleted: target the channel id;
//     details "teamId", "displayName".
//
// The actor is the acting user's id, or "system" (System) for what the
// server does by itself.
//
// Describe (describe.go) says each entry in one sentence for people, with
// names where the reader may see them and only the settings that changed;
// the API serves it as each record's "summary", so clients need not know
// every action. Described lists the actions it has a sentence for.
package audit
