package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
)

// SetupStore keeps the hash of the one-time setup token.
type SetupStore interface {
	GetSetting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	CountTenants(ctx context.Context) (int, error)
}

const setupKey = "setup_token_sha256"

// Setup hands out and redeems the one-time token that creates the first
// organisation on an empty server (a newcomer gets somewhere without an
// operator token).
type Setup struct {
	Store    SetupStore
	Identity *Service
}

// Begin returns a fresh setup token when the server has no tenant yet, and
// "" otherwise. Each start replaces the previous token.
func (s *Setup) Begin(ctx context.Context) (string, error) {
	n, err := s.Store.CountTenants(ctx)
	if err != nil {
		return "", fmt.Errorf("begin setup: %w", err)
	}
	if n > 0 {
		return "", s.Store.SetSetting(ctx, setupKey, "")
	}
	b := make([]byte, 18)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	tok := base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(tok))
	if err := s.Store.SetSetting(ctx, setupKey, hex.EncodeToString(h[:])); err != nil {
		return "", fmt.Errorf("begin setup: %w", err)
	}
	return tok, nil
}

// Complete creates the first organisation and its admin with the setup
// token, then forgets the token. Errors: unauthenticated (wrong or used
// token), badRequest, domainTaken.
func (s *Setup) Complete(ctx context.Context, token string, nt NewTenant) (Tenant, User, error) {
	want, err := s.Store.GetSetting(ctx, setupKey)
	if errcode.Is(err, errcode.NotFound) {
		return Tenant{}, User{}, errcode.New(errcode.Unauthenticated, "Setup is done already; ask your operator for an account.")
	}
	if err != nil {
		return Tenant{}, User{}, fmt.Errorf("complete setup: %w", err)
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(h[:])), []byte(want)) != 1 {
		return Tenant{}, User{}, errcode.New(errcode.Unauthenticated, "The setup token is wrong; use the one the server printed at its last start.")
	}
	t, admin, err := s.Identity.CreateTenant(ctx, nt)
	if err != nil {
		return Tenant{}, User{}, err
	}
	if err := s.Store.SetSetting(ctx, setupKey, ""); err != nil {
		return Tenant{}, User{}, fmt.Errorf("complete setup: %w", err)
	}
	return t, admin, nil
}

// Needed reports whether no organisation exists yet.
func (s *Setup) Needed(ctx context.Context) (bool, error) {
	n, err := s.Store.CountTenants(ctx)
	if err != nil {
		return false, fmt.Errorf("setup status: %w", err)
	}
	return n == 0, nil
}
