// Package msgrequest decides docs/rules.md §5's message requests and the
// rule of silence of docs/rules.md §4 as it applies to them. It is the pure
// decision: it does no I/O, reads no clock (callers pass the time), keeps
// no state, allocates nothing on the send path, and imports no Parley
// package but identity and policy (deps_test.go). chat loads the facts
// (members, parties, policy decisions), calls one function here, and
// writes what it returns; chat holds the requests' storage and the
// target's list, so this package never imports chat.
//
// Where each rule lives:
//
//   - the states of a member toward a request, and what a target's answer
//     changes (accept, decline with its cool-down, block, report spam):
//     request.go (State, Answer, DecideAnswer, DeclineCoolDown);
//   - the 10-message cap (PendingCap) and how many messages a request
//     shows (PreviewCount): request.go; the cap is counted inside the
//     write by chat's store, against DecideSend's Send.Cap;
//   - who joins a new chat how (refused, held silently, a request, a
//     request with an invitation, or accepted at once): admit.go (Admit);
//   - a send: the sender must have accepted; a request the sender may no
//     longer make, or a pair that may no longer talk, makes the chat
//     read-only; a decline or a block on a request answers
//     recipientUnavailable; a silent refusal holds the request and a lifted
//     one releases it: send.go (DecideSend, DecideChange, ReadOnlyBy, Rehold, Reopen, TakeUp);
//   - whose setting a read-only chat names (read-only blame), and whether
//     that is the viewer's side: blame.go (Blame);
//   - what each member sees of a message (nothing, the preview form with
//     links and images off, or the message), of a chat's arrival (a
//     request, the chat, or nothing while held), and of presence (read
//     receipts and typing only between accepted members): view.go.
//
// A Verdict (verdict.go) is a policy decision (docs/rules.md §4) reduced to
// what these rules read. exhaustive_test.go checks the decisions against an
// oracle written from docs/rules.md §4–§6.
package msgrequest
