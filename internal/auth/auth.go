// Package auth holds docs/rules.md §10's sign-in parts: argon2id password hashing,
// random bearer tokens stored as SHA-256 hashes, expiry and revocation, and
// login throttling per account and per client address. It imports identity
// and errcode; httpapi and server use it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// Argon2id parameters: OWASP's minimum (m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
	// MinPasswordLength is the shortest password accepted for new accounts.
	MinPasswordLength = 8
)

// hashSlots bounds concurrent hashing: each hash holds 19 MiB.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// HashPassword returns the PHC-encoded argon2id hash of password.
func HashPassword(ctx context.Context, password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key, err := derive(ctx, password, salt, argonTime, argonMemory, argonThreads)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password is acceptable for a new account.
func CheckPassword(password string) error {
	if len(password) < MinPasswordLength {
		return errcode.New(errcode.BadRequest, "The password must have at least %d characters.", MinPasswordLength)
	}
	if len(password) > 1024 {
		return errcode.New(errcode.BadRequest, "The password is too long.")
	}
	return nil
}

func derive(ctx context.Context, password string, salt []byte, t, m uint32, p uint8) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for hashing slot: %w", ctx.Err())
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, t, m, p, argonKeyLen), nil
}

// VerifyPassword reports whether password matches the PHC-encoded hash.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("verify password: unknown hash format")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("verify password: parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("verify password: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("verify password: key: %w", err)
	}
	got, err := derive(ctx, password, salt, t, m, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyHash is verified against when no account matches, so that sign-in
// takes the same time whether or not the name exists (docs/rules.md §6).
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3wJ7x2d9wq3cW9mJdK0v6o0f5zYz1Xy5bZtN3y1dAcQ"

// NewToken returns a random bearer token and the hash under which it is stored.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken returns the stored form of a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Credential is what sign-in needs of one account.
type Credential struct {
	UserID       identity.UserID
	PasswordHash string
}

// Store is the persistence auth needs.
type Store interface {
	// FindCredentials returns the accounts whose sign-in name is name (an
	// address may name a member, a personal account and guests).
	FindCredentials(ctx context.Context, name string) ([]Credential, error)
	// CreateToken stores a token hash for the user.
	CreateToken(ctx context.Context, hash []byte, userID identity.UserID, expires time.Time) error
	// FindToken returns the user and expiry of a token hash; notFound when none.
	FindToken(ctx context.Context, hash []byte) (identity.UserID, time.Time, error)
	// DeleteToken revokes a token; deleting an unknown token is not an error.
	DeleteToken(ctx context.Context, hash []byte) error
	// FindUserByID returns a user; notFound when none.
	FindUserByID(ctx context.Context, id identity.UserID) (identity.User, error)
	// PasswordHash returns a user's stored password hash; notFound when none.
	PasswordHash(ctx context.Context, id identity.UserID) (string, error)
	// SetPassword replaces oldHash by newHash and revokes every token of
	// the user but keep, atomically; notFound when the hash is no longer
	// oldHash.
	SetPassword(ctx context.Context, id identity.UserID, oldHash, newHash string, keep []byte) error
	// DeleteOtherTokens revokes every token of the user but keep.
	DeleteOtherTokens(ctx context.Context, id identity.UserID, keep []byte) (int, error)
}

// Service signs people in and authenticates their tokens.
type Service struct {
	Store    Store
	Now      func() time.Time
	TokenTTL time.Duration
	Throttle *Throttle
	// Cache, when set, serves an authenticated token from memory for its
	// TTL. Sign-out, password resets and account changes on this node
	// forget at once; other nodes when NATS brings the change, and within
	// the staleness bound in any case (CacheTrusted).
	Cache *TokenCache
	// CacheTrusted, when set (several nodes: natsbus.Bus.Current), is
	// asked before a cached token is served: while it reports false, every
	// token is read from the store (docs/decisions.md, "Several nodes:
	// staleness bound").
	CacheTrusted func() bool
	// OnForget, when set (several nodes), is told each time this node
	// forgets cached tokens, after the change is stored, so that the
	// other nodes forget them too (TokenCache.Apply).
	OnForget func(Forget)
}

// Forget names cached tokens to drop: one token (by its hash), a user's
// tokens, or all.
type Forget struct {
	TokenHash []byte
	User      identity.UserID
	All       bool
}

// TokenCache holds authenticated tokens in memory. It is built before the
// bus that brings other nodes' Forgets to it and before the Service that
// serves from it. The zero value caches nothing; a nil *TokenCache is
// ready and caches nothing.
type TokenCache struct {
	ttl   time.Duration
	mu    sync.Mutex
	cache map[[sha256.Size]byte]cached
}

// NewTokenCache returns a cache whose entries go stale after ttl.
func NewTokenCache(ttl time.Duration) *TokenCache {
	return &TokenCache{ttl: ttl}
}

// Apply drops what f names, without announcing it (another node forgot it).
func (c *TokenCache) Apply(f Forget) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case f.All:
		c.cache = nil
	case f.User != "":
		for k, e := range c.cache {
			if e.user.ID == f.User {
				delete(c.cache, k)
			}
		}
	case f.TokenHash != nil:
		if len(f.TokenHash) == sha256.Size { // no token hashes to another length
			delete(c.cache, [sha256.Size]byte(f.TokenHash))
		}
	}
}

type cached struct {
	user    identity.User
	expires time.Time // the token's own expiry
	until   time.Time // when the cache entry goes stale
}

// maxCached bounds the token cache; when full it is emptied (cheap, rare).
const maxCached = 100_000

func (c *TokenCache) lookup(key [sha256.Size]byte, now time.Time) (identity.User, bool) {
	if c == nil || c.ttl <= 0 {
		return identity.User{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cache[key]
	if !ok || !now.Before(e.until) || !now.Before(e.expires) {
		return identity.User{}, false
	}
	return e.user, true
}

func (c *TokenCache) remember(key [sha256.Size]byte, u identity.User, expires, now time.Time) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache == nil || len(c.cache) >= maxCached {
		c.cache = make(map[[sha256.Size]byte]cached)
	}
	c.cache[key] = cached{user: u, expires: expires, until: now.Add(c.ttl)}
}

// forget drops f from this node's cache and announces it to the others.
func (s *Service) forget(f Forget) {
	s.Cache.Apply(f)
	if s.OnForget != nil {
		s.OnForget(f)
	}
}

// ForgetUser drops the cached tokens of a user, after a change to the
// account (settings, password).
func (s *Service) ForgetUser(id identity.UserID) {
	s.forget(Forget{User: id})
}

// ForgetAll empties the token cache.
func (s *Service) ForgetAll() {
	s.forget(Forget{All: true})
}

// Token is an issued bearer token.
type Token struct {
	AccessToken string
	ExpiresIn   time.Duration
	UserID      identity.UserID
}

// ErrInvalidGrant is returned for wrong credentials (OAuth 2 invalid_grant).
var ErrInvalidGrant = errors.New("invalid_grant")

// SignIn checks a name and password and issues a token. It returns
// ErrInvalidGrant for wrong credentials and rateLimited when throttled.
func (s *Service) SignIn(ctx context.Context, name, password, clientAddr string) (Token, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	now := s.Now()
	// The attempt is counted before the password is checked, so attempts
	// that arrive together are counted one by one (docs/decisions.md,
	// "Limits").
	if err := s.Throttle.Reserve(ctx, now, name, clientAddr); err != nil {
		return Token{}, err
	}
	user, err := s.check(ctx, name, password)
	if err != nil {
		return Token{}, err
	}
	if err := s.Throttle.Settle(ctx, now, name, clientAddr, user != ""); err != nil {
		return Token{}, fmt.Errorf("sign in %q: %w", name, err)
	}
	if user == "" {
		return Token{}, ErrInvalidGrant
	}
	tok, hash := NewToken()
	if err := s.Store.CreateToken(ctx, hash, user, now.Add(s.TokenTTL)); err != nil {
		return Token{}, fmt.Errorf("sign in %q: %w", name, err)
	}
	return Token{AccessToken: tok, ExpiresIn: s.TokenTTL, UserID: user}, nil
}

// check returns the account whose password matches, or "".
func (s *Service) check(ctx context.Context, name, password string) (identity.UserID, error) {
	creds, err := s.Store.FindCredentials(ctx, name)
	if err != nil {
		return "", fmt.Errorf("sign in %q: %w", name, err)
	}
	if len(creds) == 0 {
		// Same work as a real check: the timing says nothing about existence.
		if _, err := VerifyPassword(ctx, dummyHash, password); err != nil {
			return "", err
		}
		return "", nil
	}
	for _, c := range creds {
		ok, err := VerifyPassword(ctx, c.PasswordHash, password)
		if err != nil {
			return "", fmt.Errorf("sign in %q: %w", name, err)
		}
		if ok {
			return c.UserID, nil
		}
	}
	return "", nil
}

// IssueToken issues a token for a user who proved who they are another way
// (sign-up code, invitation redeem).
func (s *Service) IssueToken(ctx context.Context, userID identity.UserID) (Token, error) {
	tok, hash := NewToken()
	if err := s.Store.CreateToken(ctx, hash, userID, s.Now().Add(s.TokenTTL)); err != nil {
		return Token{}, fmt.Errorf("issue token: %w", err)
	}
	return Token{AccessToken: tok, ExpiresIn: s.TokenTTL, UserID: userID}, nil
}

// IssueTokenUntil issues a token that expires at until or after the usual
// lifetime, whichever comes first (an anonymous meeting session lives at
// most until its meeting ends, docs/rules.md §8). Errors: badRequest when
// until has passed.
func (s *Service) IssueTokenUntil(ctx context.Context, userID identity.UserID, until time.Time) (Token, error) {
	now := s.Now()
	ttl := min(s.TokenTTL, until.Sub(now))
	if ttl <= 0 {
		return Token{}, errcode.New(errcode.BadRequest, "The session would already be over.")
	}
	tok, hash := NewToken()
	if err := s.Store.CreateToken(ctx, hash, userID, now.Add(ttl)); err != nil {
		return Token{}, fmt.Errorf("issue token: %w", err)
	}
	return Token{AccessToken: tok, ExpiresIn: ttl, UserID: userID}, nil
}

// Authenticate returns the user a bearer token belongs to, or unauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (identity.User, error) {
	if token == "" || len(token) > 256 {
		return identity.User{}, errcode.New(errcode.Unauthenticated, "A valid bearer token is required.")
	}
	// The hash as an array: the cache is read without an allocation.
	sum := sha256.Sum256([]byte(token))
	now := s.Now()
	if s.CacheTrusted == nil || s.CacheTrusted() {
		if u, ok := s.Cache.lookup(sum, now); ok {
			return u, nil
		}
	}
	hash := make([]byte, sha256.Size) // a copy: sum stays on the stack
	copy(hash, sum[:])
	uid, expires, err := s.Store.FindToken(ctx, hash)
	if errcode.Is(err, errcode.NotFound) {
		return identity.User{}, errcode.New(errcode.Unauthenticated, "The access token is not valid.")
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("authenticate: %w", err)
	}
	if !now.Before(expires) {
		return identity.User{}, errcode.New(errcode.Unauthenticated, "The access token has expired; sign in again.")
	}
	u, err := s.Store.FindUserByID(ctx, uid)
	if errcode.Is(err, errcode.NotFound) {
		return identity.User{}, errcode.New(errcode.Unauthenticated, "The access token is not valid.")
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("authenticate: %w", err)
	}
	s.Cache.remember(sum, u, expires, now)
	return u, nil
}

// SignOut revokes a token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	hash := HashToken(token)
	f := Forget{TokenHash: hash}
	s.Cache.Apply(f)
	if err := s.Store.DeleteToken(ctx, hash); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	// After the delete, here too (a read that raced it may have cached the
	// token again): a node that reads the token again finds none.
	s.forget(f)
	return nil
}
