// Package invite holds docs/rules.md §6's invitations and personal accounts: an
// address no account owns gets a single-use, expiring link by e-mail or
// SMS (through the durable outbox); redeeming it, or signing up with a
// 6-digit code, makes a personal account that owns the address, and the
// chats waiting for that address arrive as requests. Neither sign-up nor
// redeem says whether an address has an account. httpapi and server import it.
package invite

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleychat/parley/internal/address"
	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/limit"
	"github.com/parleychat/parley/internal/outbox"
)

// Lifetimes (docs/rules.md §6: invitations expire after 14 days).
const (
	InvitationTTL   = 14 * 24 * time.Hour
	CodeTTL         = 15 * time.Minute
	MaxCodeAttempts = 5
)

// Invitation is a link sent to an address no account owns.
type Invitation struct {
	TokenHash  string
	ChatID     chat.ID
	MemberID   string
	Address    string
	InviterID  identity.UserID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RedeemedAt time.Time
}

// Invitations are recorded in the audit log as external chats
// (chat.externalCreated) whether or not an account owns the address: an
// "invitation sent" entry would tell which addresses have none.

// SignupCode is a pending personal sign-up.
type SignupCode struct {
	Address      string
	CodeHash     string
	DisplayName  string
	PasswordHash string
	ExpiresAt    time.Time
	Attempts     int
}

// Store is the persistence invite needs.
type Store interface {
	// FindInvitation returns an invitation by token hash. Errors: notFound.
	FindInvitation(ctx context.Context, tokenHash string) (Invitation, error)
	// CreatePersonal stores a personal account owning addr, marks the
	// invitation redeemed (when redeemHash is set; notFound if it is gone)
	// and hands it the chats waiting for addr.
	CreatePersonal(ctx context.Context, u identity.User, passwordHash, addr, redeemHash string, at time.Time) error
	FindUsersByAddress(ctx context.Context, addr string) ([]identity.User, error)
	FindTenantByDomain(ctx context.Context, domain string) (identity.Tenant, error)
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	SaveSignupCode(ctx context.Context, c SignupCode, msg *outbox.Message) error
	// TakeSignupAttempt counts an attempt at the pending sign-up of addr
	// and returns it, Attempts including this one; attempts that arrive
	// together are counted one by one. Errors: notFound.
	TakeSignupAttempt(ctx context.Context, addr string) (SignupCode, error)
	DeleteSignupCode(ctx context.Context, addr string) error
	SaveResetCode(ctx context.Context, addr, codeHash string, expires time.Time, msg *outbox.Message) error
	// TakeResetAttempt counts an attempt at the pending reset of addr and
	// returns its code hash, expiry and attempts, this one included.
	// Errors: notFound.
	TakeResetAttempt(ctx context.Context, addr string) (string, time.Time, int, error)
	// ResetPassword uses up the pending reset of addr with codeHash and
	// sets the password of the accounts signing in with addr, revoking
	// their tokens. Errors: notFound (the code is gone: used or replaced).
	ResetPassword(ctx context.Context, addr, codeHash, passwordHash string) error
	// FindCredentials lists the accounts signing in with a name.
	FindCredentials(ctx context.Context, name string) ([]auth.Credential, error)
}

// Kicker wakes the outbox worker.
type Kicker interface{ Kick() }

// Service sends invitations and makes personal accounts.
type Service struct {
	Store  Store
	Outbox Kicker
	// Limits holds the rate limits on codes (may be nil in tests: none).
	Limits      limit.Store
	Hash        func(ctx context.Context, password string) (string, error)
	Now         func() time.Time
	PublicURL   func() string
	PhoneRegion string
	// PasswordChanged is told after a password reset revoked tokens, so
	// caches of authenticated tokens forget them (may be nil).
	PasswordChanged func()
	// Audit records invitations in the inviter's tenant log (may be nil).
	Audit func(ctx context.Context, tenant identity.TenantID, actor identity.UserID, action, target string, details map[string]any)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func newToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b)
}

func channelOf(addr string) outbox.Channel {
	if strings.HasPrefix(addr, "+") {
		return outbox.SMS
	}
	return outbox.Email
}

// Prepare builds the invitation of a pending member no account owns and
// the mail or SMS that carries its link; the chat store writes both with
// the chat. It implements chat.Inviter.
func (s *Service) Prepare(_ context.Context, actor *identity.User, c *chat.Chat, m *chat.Member) (chat.Invitation, error) {
	tok := newToken()
	now := s.Now()
	link := s.PublicURL() + "/join/" + tok
	var msg outbox.Message
	if channelOf(m.Address) == outbox.SMS {
		msg = outbox.NewMessage(outbox.SMS, m.Address, "", fmt.Sprintf("%s wants to chat with you on Parley: %s", actor.DisplayName, link), actor.TenantID, actor.ID, now)
	} else {
		body := fmt.Sprintf("Hello,\n\n%s (%s) wants to chat with you on Parley.\n\nOpen this link to create your free account and see the message:\n\n%s\n\nThe link works once and expires in 14 days. If you don't know %s, ignore this mail.\n",
			actor.DisplayName, actor.Mail, link, actor.DisplayName)
		msg = outbox.NewMessage(outbox.Email, m.Address, actor.DisplayName+" wants to chat with you", body, actor.TenantID, actor.ID, now)
	}
	return chat.Invitation{TokenHash: hashToken(tok), ChatID: c.ID, MemberID: m.ID, Address: m.Address, InviterID: actor.ID,
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL), Message: msg}, nil
}

// Sent wakes the outbox after invitations were stored.
func (s *Service) Sent(_ context.Context, _ *identity.User, _ []chat.Invitation) {
	s.Outbox.Kick()
}

// Invitation returns what the join page shows for a token: who invited
// whom. Errors: notFound (unknown, used or expired token).
func (s *Service) Invitation(ctx context.Context, token string) (Invitation, identity.User, error) {
	inv, err := s.Store.FindInvitation(ctx, hashToken(token))
	if err != nil || !inv.RedeemedAt.IsZero() || !s.Now().Before(inv.ExpiresAt) {
		return Invitation{}, identity.User{}, errcode.New(errcode.NotFound, "This invitation link is not valid: it was used already or has expired.")
	}
	inviter, err := s.Store.FindUserByID(ctx, inv.InviterID)
	if err != nil {
		return Invitation{}, identity.User{}, fmt.Errorf("load inviter: %w", err)
	}
	return inv, inviter, nil
}

func cleanDisplayName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || utf8.RuneCountInString(s) > 256 {
		return "", errcode.New(errcode.BadRequest, "displayName is required (at most 256 characters).")
	}
	return s, nil
}

func personal(addr address.Address, name string, now time.Time) identity.User {
	u := identity.User{ID: identity.NewUserID(), Kind: identity.Personal, Role: identity.RoleMember, DisplayName: name, UPN: addr.Value,
		AllowChatsFromOrganizations: true, CreatedAt: now}
	if addr.Kind == address.Email {
		u.Mail = addr.Value
	} else {
		u.Phone = addr.Value
	}
	return u
}

// Redeem makes the personal account of an invitation: the link proved the
// address. The invitation's chat then waits in the new account's requests.
// Errors: notFound (bad link), badRequest, conflict (an account owns the
// address already: sign in instead).
func (s *Service) Redeem(ctx context.Context, token, displayName, password string) (identity.User, error) {
	inv, inviter, err := s.Invitation(ctx, token)
	if err != nil {
		return identity.User{}, err
	}
	name, err := cleanDisplayName(displayName)
	if err != nil {
		return identity.User{}, err
	}
	hash, err := s.Hash(ctx, password)
	if err != nil {
		return identity.User{}, err
	}
	addr, err := address.Parse(inv.Address, s.PhoneRegion)
	if err != nil {
		return identity.User{}, fmt.Errorf("redeem: stored address: %w", err)
	}
	u := personal(addr, name, s.Now())
	if err := s.Store.CreatePersonal(ctx, u, hash, inv.Address, inv.TokenHash, s.Now()); err != nil {
		return identity.User{}, err
	}
	if s.Audit != nil && inviter.TenantID != "" {
		s.Audit(ctx, inviter.TenantID, u.ID, "invitation.redeemed", string(inv.ChatID), nil)
	}
	return u, nil
}

// parse reads an address given as e-mail or phone.
func (s *Service) parse(email, phone string) (address.Address, error) {
	switch {
	case email != "" && phone != "":
		return address.Address{}, errcode.New(errcode.BadRequest, "Give either email or phoneNumber, not both.")
	case email != "":
		return address.ParseEmail(email)
	case phone != "":
		return address.ParsePhone(phone, s.PhoneRegion)
	}
	return address.Address{}, errcode.New(errcode.BadRequest, "email or phoneNumber is required.")
}

func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000)) // crypto/rand never fails on supported platforms
	return fmt.Sprintf("%06d", n.Int64())
}

func codeHash(addr, code string) string { return hashToken(addr + "\x00" + code) }

// Limits on codes (docs/decisions.md, "Limits"). Mails and SMS with codes:
// 3 per address, then one every 10 minutes, and 20 per client address,
// then one every 3 minutes; a request over them gets the same answer and
// sends nothing. Wrong codes: besides MaxCodeAttempts per code, 10 per
// address, then one every 6 minutes, and 20 per client address, then one
// a minute (rateLimited).
var (
	codeMailsPerAddress = limit.Bucket{Burst: 3, Every: 10 * time.Minute}
	codeMailsPerClient  = limit.Bucket{Burst: 20, Every: 3 * time.Minute}
	codeTriesPerAddress = limit.Bucket{Burst: 10, Every: 6 * time.Minute}
	codeTriesPerClient  = limit.Bucket{Burst: 20, Every: time.Minute}
)

// mayMail takes a code mail from the address's and the client's budgets
// and reports whether one may go.
func (s *Service) mayMail(ctx context.Context, addr, client string) (bool, error) {
	if s.Limits == nil {
		return true, nil
	}
	ok := false
	err := s.Limits.UpdateLimits(ctx, []string{"code.mail:" + addr, "code.mailclient:" + client}, s.Now(), func(st []limit.State) {
		a, c := st[0], st[1]
		_, ok1 := codeMailsPerAddress.Take(&a, s.Now(), 1)
		_, ok2 := codeMailsPerClient.Take(&c, s.Now(), 1)
		if ok = ok1 && ok2; ok {
			st[0], st[1] = a, c
		}
	})
	if err != nil {
		return false, fmt.Errorf("limit code mails: %w", err)
	}
	return ok, nil
}

// tryCode takes a code attempt from the address's and the client's
// budgets, or answers rateLimited. A right code is counted too: it ends
// its code, and a budget that gave it back could count more than its size
// in a burst.
func (s *Service) tryCode(ctx context.Context, addr, client string) error {
	if s.Limits == nil {
		return nil
	}
	now := s.Now()
	var retry time.Duration
	err := s.Limits.UpdateLimits(ctx, []string{"code.try:" + addr, "code.tryclient:" + client}, now, func(st []limit.State) {
		a, c := st[0], st[1]
		w1, ok1 := codeTriesPerAddress.Take(&a, now, 1)
		w2, ok2 := codeTriesPerClient.Take(&c, now, 1)
		if ok1 && ok2 {
			st[0], st[1] = a, c
			return
		}
		retry = max(w1, w2, time.Second)
	})
	if err != nil {
		return fmt.Errorf("limit code attempts: %w", err)
	}
	if retry > 0 {
		return errcode.RateLimit(retry, "Too many wrong codes; try again later.")
	}
	return nil
}

// SignUpWithCode starts a sign-up and returns its code instead of only
// mailing it (demo seeding; never exposed over the API).
func (s *Service) SignUpWithCode(ctx context.Context, email, displayName, password string) (string, error) {
	return s.signUp(ctx, email, "", displayName, password, "")
}

// SignUp starts a personal sign-up: a 6-digit code goes to the address.
// Its answer never depends on the address (docs/rules.md §6): an address that has
// an account, or is in an organisation's verified domain, gets a mail
// saying so instead of a code, and the same work is done either way. Over
// the limits on code mails it answers the same and sends nothing. client
// is the caller's network address. Errors: badRequest for malformed input
// only.
func (s *Service) SignUp(ctx context.Context, email, phone, displayName, password, client string) error {
	_, err := s.signUp(ctx, email, phone, displayName, password, client)
	return err
}

func (s *Service) signUp(ctx context.Context, email, phone, displayName, password, client string) (string, error) {
	addr, err := s.parse(email, phone)
	if err != nil {
		return "", err
	}
	name, err := cleanDisplayName(displayName)
	if err != nil {
		return "", err
	}
	if err := auth.CheckPassword(password); err != nil {
		return "", err
	}
	if ok, err := s.mayMail(ctx, addr.Value, client); err != nil || !ok {
		return "", err
	}
	hash, err := s.Hash(ctx, password)
	if err != nil {
		return "", err
	}
	now := s.Now()
	ch := outbox.Email
	if addr.Kind == address.Phone {
		ch = outbox.SMS
	}
	code := newCode()
	c := SignupCode{Address: addr.Value, CodeHash: codeHash(addr.Value, code), DisplayName: name, PasswordHash: hash, ExpiresAt: now.Add(CodeTTL)}
	msg := outbox.NewMessage(ch, addr.Value, "Your Parley code: "+code, fmt.Sprintf("Your Parley sign-up code is %s. It expires in 15 minutes.", code), "", "", now)
	taken, err := s.taken(ctx, addr)
	if err != nil {
		return "", err
	}
	if taken != "" {
		// No code: the mail tells the owner what happened, the caller learns nothing.
		c.CodeHash = "" // verification can never succeed
		msg = outbox.NewMessage(ch, addr.Value, "Parley sign-up", taken, "", "", now)
	}
	if err := s.Store.SaveSignupCode(ctx, c, &msg); err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	s.Outbox.Kick()
	return code, nil
}

// taken says why an address cannot become a new personal account, as the
// text of the mail its owner gets, or "".
func (s *Service) taken(ctx context.Context, addr address.Address) (string, error) {
	if d := addr.Domain(); d != "" {
		if _, err := s.Store.FindTenantByDomain(ctx, d); err == nil {
			return "Someone tried to create a personal Parley account with this address. It belongs to an organisation, so it cannot become a personal account: sign in with your work account instead.", nil
		} else if !errcode.Is(err, errcode.NotFound) {
			return "", fmt.Errorf("sign up: %w", err)
		}
	}
	users, err := s.Store.FindUsersByAddress(ctx, addr.Value)
	if err != nil {
		return "", fmt.Errorf("sign up: %w", err)
	}
	for _, u := range users {
		if u.Kind == identity.Personal {
			return "Someone tried to create a Parley account with this address, but you have one already. If it was you, sign in instead.", nil
		}
	}
	return "", nil
}

// Verify finishes a sign-up with its code and returns the new personal
// account; chats waiting for the address arrive as requests. Errors:
// badRequest (wrong or expired code: one message for every cause),
// rateLimited (too many wrong codes from the address or the client).
func (s *Service) Verify(ctx context.Context, email, phone, code, client string) (identity.User, error) {
	addr, err := s.parse(email, phone)
	if err != nil {
		return identity.User{}, err
	}
	if err := s.tryCode(ctx, addr.Value, client); err != nil {
		return identity.User{}, err
	}
	c, err := s.Store.TakeSignupAttempt(ctx, addr.Value)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return identity.User{}, fmt.Errorf("verify: %w", err)
	}
	if err := s.checkCode(addr.Value, code, c.CodeHash, c.ExpiresAt, c.Attempts, err == nil); err != nil {
		return identity.User{}, err
	}
	u := personal(addr, c.DisplayName, s.Now())
	if err := s.Store.CreatePersonal(ctx, u, c.PasswordHash, addr.Value, "", s.Now()); err != nil {
		if errcode.Is(err, errcode.Conflict) {
			return identity.User{}, errBadCode
		}
		return identity.User{}, err
	}
	if err := s.Store.DeleteSignupCode(ctx, addr.Value); err != nil {
		return identity.User{}, fmt.Errorf("verify: %w", err)
	}
	return u, nil
}

// RequestReset starts a password reset: when an account signs in with the
// address, a 6-digit code goes to it. The answer and the work done never
// depend on whether one does (docs/rules.md §6). Over the limits on code mails it
// answers the same and sends nothing. Errors: badRequest for malformed
// input only.
func (s *Service) RequestReset(ctx context.Context, email, phone, client string) error {
	addr, err := s.parse(email, phone)
	if err != nil {
		return err
	}
	if ok, err := s.mayMail(ctx, addr.Value, client); err != nil || !ok {
		return err
	}
	creds, err := s.Store.FindCredentials(ctx, addr.Value)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	now := s.Now()
	code := newCode()
	var msg *outbox.Message
	hash := codeHash(addr.Value, code)
	if len(creds) > 0 {
		ch := outbox.Email
		if addr.Kind == address.Phone {
			ch = outbox.SMS
		}
		m := outbox.NewMessage(ch, addr.Value, "Your Parley password reset code: "+code,
			fmt.Sprintf("Your Parley password reset code is %s. It expires in 15 minutes. If you did not ask for it, ignore this message.", code), "", "", now)
		msg = &m
	} else {
		hash = "" // nothing to reset: verification can never succeed
	}
	if err := s.Store.SaveResetCode(ctx, addr.Value, hash, now.Add(CodeTTL), msg); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if msg != nil {
		s.Outbox.Kick()
	}
	return nil
}

// ResetPassword finishes a reset with its code: the new password replaces
// the old one and every token of the account is revoked. Errors:
// badRequest (wrong or expired code: one message for every cause; a weak
// password), rateLimited (too many wrong codes).
func (s *Service) ResetPassword(ctx context.Context, email, phone, code, password, client string) error {
	addr, err := s.parse(email, phone)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(password); err != nil {
		return err
	}
	if err := s.tryCode(ctx, addr.Value, client); err != nil {
		return err
	}
	want, expires, attempts, err := s.Store.TakeResetAttempt(ctx, addr.Value)
	if err != nil && !errcode.Is(err, errcode.NotFound) {
		return fmt.Errorf("reset: %w", err)
	}
	if err := s.checkCode(addr.Value, code, want, expires, attempts, err == nil); err != nil {
		return err
	}
	hash, err := s.Hash(ctx, password)
	if err != nil {
		return err
	}
	if err := s.Store.ResetPassword(ctx, addr.Value, want, hash); err != nil {
		if errcode.Is(err, errcode.NotFound) {
			return errBadCode // another reset with this code came first
		}
		return err
	}
	if s.PasswordChanged != nil {
		s.PasswordChanged()
	}
	return nil
}

// errBadCode is the one answer to every wrong, used, expired or unknown code.
var errBadCode = errcode.New(errcode.BadRequest, "The code is wrong or has expired; request a new one.")

// noCode is compared against when there is no code to compare against, so
// that every path does the same work whether or not an account owns the
// address.
var noCode = hashToken("no code")

// checkCode checks a typed 6-digit code against a pending one (found:
// whether there is one; an empty hash never matches) whose attempts were
// counted, this one included: after MaxCodeAttempts even the right code
// fails, so a code is burnt however many guesses arrive at once.
func (s *Service) checkCode(addr, code, want string, expires time.Time, attempts int, found bool) error {
	against := want
	if !found || want == "" {
		against = noCode
	}
	match := subtle.ConstantTimeCompare([]byte(codeHash(addr, strings.TrimSpace(code))), []byte(against)) == 1
	if !match || !found || want == "" || attempts > MaxCodeAttempts || !s.Now().Before(expires) {
		return errBadCode
	}
	return nil
}
