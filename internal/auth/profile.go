package auth

import (
	"context"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// errWrongPassword answers a wrong current password. It is a badRequest,
// not a 401: the session itself is fine.
var errWrongPassword = errcode.New(errcode.BadRequest, "The current password is wrong.")

// ChangePassword sets a new password for the signed-in user, who proves it
// with the current one, and signs out every other session of theirs (the
// one making the change, token, stays). Guesses of the current password
// count against the same throttle as sign-in attempts for the account.
// Errors: badRequest (wrong current password, new one too short or the
// same), rateLimited.
func (s *Service) ChangePassword(ctx context.Context, u *identity.User, token, current, next, clientAddr string) error {
	if err := CheckPassword(next); err != nil {
		return err
	}
	if current == next {
		return errcode.New(errcode.BadRequest, "The new password is the same as the current one.")
	}
	now := s.Now()
	name := u.UPN
	if err := s.Throttle.Reserve(ctx, now, name, clientAddr); err != nil {
		return err
	}
	old, err := s.Store.PasswordHash(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	ok, err := VerifyPassword(ctx, old, current)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if err := s.Throttle.Settle(ctx, now, name, clientAddr, ok); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	if !ok {
		return errWrongPassword
	}
	hash, err := HashPassword(ctx, next)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, u.ID, old, hash, HashToken(token)); err != nil {
		if errcode.Is(err, errcode.NotFound) {
			// Another change with the same current password came first.
			return errWrongPassword
		}
		return fmt.Errorf("change password: %w", err)
	}
	s.ForgetUser(u.ID)
	return nil
}

// SignOutOthers revokes every token of the user except token (the session
// asking) and returns how many sessions ended.
func (s *Service) SignOutOthers(ctx context.Context, u *identity.User, token string) (int, error) {
	n, err := s.Store.DeleteOtherTokens(ctx, u.ID, HashToken(token))
	if err != nil {
		return 0, fmt.Errorf("sign out other sessions: %w", err)
	}
	s.ForgetUser(u.ID)
	return n, nil
}
