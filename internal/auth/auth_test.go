package auth_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleychat/parley/internal/auth"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/store"
	"github.com/parleychat/parley/internal/store/storetest"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"1234567", false},
		{"12345678", true},
		{strings.Repeat("x", 1024), true},
		{strings.Repeat("x", 1025), false},
	}
	for _, tc := range tests {
		err := auth.CheckPassword(tc.pw)
		if (err == nil) != tc.ok || (err != nil && !errcode.Is(err, errcode.BadRequest)) {
			t.Errorf("CheckPassword(%d chars) = %v, want ok %v (else badRequest)", len(tc.pw), err, tc.ok)
		}
		if _, err := auth.HashPassword(context.Background(), tc.pw); (err == nil) != tc.ok {
			t.Errorf("HashPassword(%d chars) = %v, want ok %v", len(tc.pw), err, tc.ok)
		}
	}
}

// TestHashPassword: a hash is argon2id in PHC form, salted (two hashes of
// one password differ), verifies its own password only, and a malformed
// hash is an error, never a match.
func TestHashPassword(t *testing.T) {
	ctx := context.Background()
	h1, err := auth.HashPassword(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := auth.HashPassword(ctx, "correct-horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || h1 == h2 {
		t.Errorf("hashes %q and %q: want argon2id PHC strings with different salts", h1, h2)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{{"correct-horse", true}, {"correct-hors", false}, {"Correct-horse", false}, {"", false}} {
		if ok, err := auth.VerifyPassword(ctx, h1, tc.pw); err != nil || ok != tc.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", tc.pw, ok, err, tc.want)
		}
	}
	for _, bad := range []string{"", "plain", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=x$a$b", "$argon2id$v=19$m=1,t=1,p=1$!!$AAAA", "$argon2id$v=19$m=1,t=1,p=1$AAAA$!!"} {
		if ok, err := auth.VerifyPassword(ctx, bad, "correct-horse"); err == nil || ok {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", bad, ok, err)
		}
	}
}

func TestNewToken(t *testing.T) {
	a, ha := auth.NewToken()
	b, hb := auth.NewToken()
	if a == b || len(a) != 43 || string(ha) == string(hb) {
		t.Errorf("tokens %q %q: want two different 32-byte base64url tokens", a, b)
	}
	if string(auth.HashToken(a)) != string(ha) || len(ha) != 32 {
		t.Errorf("HashToken(token) differs from the hash NewToken gave")
	}
}

// clock is a fake clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is the auth service over a fresh store with one account.
type fixture struct {
	svc   *auth.Service
	db    *store.DB
	clock *clock
	user  identity.User
	// forgets are what the service announced to other nodes.
	mu      sync.Mutex
	forgets []auth.Forget
}

const password = "correct-horse-battery"

func newFixture(t *testing.T, d store.Dialect, cache *auth.TokenCache) *fixture {
	t.Helper()
	db := storetest.Open(t, d)
	ctx := t.Context()
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	tn := identity.Tenant{ID: identity.NewTenantID(), DisplayName: "Contoso", Domains: []string{"contoso.com"}, CreatedAt: c.Now()}
	u := identity.User{ID: identity.NewUserID(), TenantID: tn.ID, Kind: identity.Member, Role: identity.RoleAdmin, DisplayName: "Ada",
		UPN: "ada@contoso.com", Mail: "ada@contoso.com", CreatedAt: c.Now()}
	hash, err := auth.HashPassword(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTenant(ctx, tn, u, hash); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, clock: c, user: u}
	f.svc = &auth.Service{Store: db, Now: c.Now, TokenTTL: time.Hour, Throttle: auth.NewThrottle(db), Cache: cache,
		OnForget: func(fg auth.Forget) { f.mu.Lock(); f.forgets = append(f.forgets, fg); f.mu.Unlock() }}
	return f
}

func (f *fixture) announced() []auth.Forget {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.forgets)
}

// TestSignIn: the right password issues a token that authenticates the
// account until it expires; a wrong password and an unknown name are the
// same invalid_grant; sign-out revokes the token and says so to the other
// nodes. Both stores.
func TestSignIn(t *testing.T) {
	t.Parallel()
	storetest.EachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFixture(t, d, nil)
		ctx := t.Context()
		for _, tc := range []struct{ name, pw string }{{"ada@contoso.com", "wrong-password"}, {"nobody@contoso.com", password}} {
			if _, err := f.svc.SignIn(ctx, tc.name, tc.pw, "192.0.2.1"); !errors.Is(err, auth.ErrInvalidGrant) {
				t.Errorf("SignIn(%s): %v, want invalid_grant", tc.name, err)
			}
		}
		tok, err := f.svc.SignIn(ctx, "  ADA@contoso.com ", password, "192.0.2.1")
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		if tok.UserID != f.user.ID || tok.ExpiresIn != time.Hour {
			t.Errorf("token for %s expiring in %v, want %s in 1h", tok.UserID, tok.ExpiresIn, f.user.ID)
		}
		u, err := f.svc.Authenticate(ctx, tok.AccessToken)
		if err != nil || u.ID != f.user.ID {
			t.Fatalf("Authenticate: %v, %v", u.ID, err)
		}
		for _, bad := range []string{"", "not-a-token", strings.Repeat("x", 257)} {
			if _, err := f.svc.Authenticate(ctx, bad); !errcode.Is(err, errcode.Unauthenticated) {
				t.Errorf("Authenticate(%q): %v, want unauthenticated", bad, err)
			}
		}
		f.clock.Add(time.Hour)
		if _, err := f.svc.Authenticate(ctx, tok.AccessToken); !errcode.Is(err, errcode.Unauthenticated) || !strings.Contains(errcode.Message(err), "expired") {
			t.Errorf("after its hour: %v, want unauthenticated, expired", err)
		}
		other, err := f.svc.IssueToken(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SignOut(ctx, other.AccessToken); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, other.AccessToken); !errcode.Is(err, errcode.Unauthenticated) {
			t.Errorf("after sign-out: %v, want unauthenticated", err)
		}
		if got := f.announced(); len(got) != 1 || string(got[0].TokenHash) != string(auth.HashToken(other.AccessToken)) {
			t.Errorf("announced %+v, want the signed-out token's hash", got)
		}
	})
}

// TestTokenCache: a cached token is served without the store for the
// cache's TTL; sign-out, ForgetUser and ForgetAll drop it at once (and are
// announced); another node's Forget applied drops it without an
// announcement; while CacheTrusted is false the store is read.
func TestTokenCache(t *testing.T) {
	t.Parallel()
	f := newFixture(t, store.SQLite, auth.NewTokenCache(10*time.Second))
	ctx := t.Context()
	issue := func() string {
		tok, err := f.svc.IssueToken(ctx, f.user.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	// revoke deletes the token behind the cache's back.
	revoke := func(tok string) {
		if err := f.db.DeleteToken(ctx, auth.HashToken(tok)); err != nil {
			t.Fatal(err)
		}
	}
	served := func(tok string) bool {
		_, err := f.svc.Authenticate(ctx, tok)
		return err == nil
	}

	tok := issue()
	revoke(tok)
	if !served(tok) {
		t.Fatal("a cached token was read from the store within its TTL")
	}
	f.clock.Add(10 * time.Second)
	if served(tok) {
		t.Fatal("a cached token was served after its TTL")
	}

	for _, tc := range []struct {
		name     string
		forget   func()
		announce bool
	}{
		{"ForgetUser", func() { f.svc.ForgetUser(f.user.ID) }, true},
		{"ForgetAll", f.svc.ForgetAll, true},
		{"another node's user forget", func() { f.svc.Cache.Apply(auth.Forget{User: f.user.ID}) }, false},
		{"another node's forget all", func() { f.svc.Cache.Apply(auth.Forget{All: true}) }, false},
	} {
		tok := issue()
		revoke(tok)
		before := len(f.announced())
		tc.forget()
		if served(tok) {
			t.Errorf("%s: the token is still served", tc.name)
		}
		if got := len(f.announced()) - before; (got == 1) != tc.announce {
			t.Errorf("%s: %d announcements, want announced %v", tc.name, got, tc.announce)
		}
	}

	tok = issue()
	trusted := true
	f.svc.CacheTrusted = func() bool { return trusted }
	revoke(tok)
	if !served(tok) {
		t.Fatal("a trusted cache did not serve")
	}
	trusted = false
	if served(tok) {
		t.Fatal("an untrusted cache served a revoked token")
	}
}

// TestThrottle: one address guessing one account waits after 5 attempts,
// while the owner's known address still signs in; a success forgets the
// address's failures.
func TestThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, store.SQLite, nil)
	ctx := t.Context()
	if _, err := f.svc.SignIn(ctx, "ada@contoso.com", password, "198.51.100.7"); err != nil {
		t.Fatalf("the owner signs in: %v", err)
	}
	for i := range 5 {
		if _, err := f.svc.SignIn(ctx, "ada@contoso.com", "guess", "192.0.2.66"); !errors.Is(err, auth.ErrInvalidGrant) {
			t.Fatalf("guess %d: %v, want invalid_grant", i+1, err)
		}
	}
	_, err := f.svc.SignIn(ctx, "ada@contoso.com", password, "192.0.2.66")
	if !errcode.Is(err, errcode.RateLimited) || errcode.RetryAfterOf(err) < time.Second {
		t.Fatalf("the 6th attempt from the guesser's address: %v, want rateLimited with a wait", err)
	}
	if _, err := f.svc.SignIn(ctx, "ada@contoso.com", password, "198.51.100.7"); err != nil {
		t.Fatalf("the owner's known address while the guesser waits: %v", err)
	}
	f.clock.Add(errcode.RetryAfterOf(err))
	if _, err := f.svc.SignIn(ctx, "ada@contoso.com", password, "192.0.2.66"); err != nil {
		t.Fatalf("after the wait, the right password: %v", err)
	}
	for i := range 5 {
		if _, err := f.svc.SignIn(ctx, "ada@contoso.com", "guess", "192.0.2.66"); !errors.Is(err, auth.ErrInvalidGrant) {
			t.Fatalf("after a success, guess %d: %v, want invalid_grant (the success forgot the failures)", i+1, err)
		}
	}
}
