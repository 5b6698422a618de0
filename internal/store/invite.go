package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleychat/parley/internal/chat"
	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
	"github.com/parleychat/parley/internal/invite"
	"github.com/parleychat/parley/internal/outbox"
)

// insertInvitations stores invitations and their messages in the
// transaction of their chat, so an acknowledged invitation is always sent.
func (db *DB) insertInvitations(tx *sql.Tx, invs []chat.Invitation) error {
	for _, inv := range invs {
		_, err := db.txExec(tx, `INSERT INTO invitations (token_hash, chat_id, member_id, address, inviter_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			inv.TokenHash, inv.ChatID, inv.MemberID, inv.Address, inv.InviterID, micros(inv.CreatedAt), micros(inv.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert invitation: %w", err)
		}
		if err := db.insertOutbox(tx, inv.Message); err != nil {
			return err
		}
	}
	return nil
}

// FindInvitation returns an invitation. Errors: notFound.
func (db *DB) FindInvitation(ctx context.Context, tokenHash string) (invite.Invitation, error) {
	var inv invite.Invitation
	var created, expires, redeemed int64
	err := db.queryRow(ctx, `SELECT token_hash, chat_id, member_id, address, inviter_id, created_at, expires_at, redeemed_at FROM invitations WHERE token_hash = ?`, tokenHash).
		Scan(&inv.TokenHash, &inv.ChatID, &inv.MemberID, &inv.Address, &inv.InviterID, &created, &expires, &redeemed)
	if err != nil {
		return invite.Invitation{}, notFound(err, "No such invitation.")
	}
	inv.CreatedAt, inv.ExpiresAt, inv.RedeemedAt = fromMicros(created), fromMicros(expires), fromMicros(redeemed)
	return inv, nil
}

// CreatePersonal stores a personal account owning addr, redeems the
// invitation (if any) and hands the account the chats waiting for addr, all
// in one transaction. Errors: conflict (a personal account owns addr),
// notFound (the invitation was used meanwhile).
func (db *DB) CreatePersonal(ctx context.Context, u identity.User, passwordHash, addr, redeemHash string, at time.Time) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if err := db.insertUser(tx, u, passwordHash); err != nil {
			return err
		}
		if redeemHash != "" {
			res, err := db.txExec(tx, `UPDATE invitations SET redeemed_at = ? WHERE token_hash = ? AND redeemed_at = 0`, micros(at), redeemHash)
			if err != nil {
				return fmt.Errorf("redeem invitation: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errcode.New(errcode.NotFound, "This invitation link was used already.")
			}
		}
		// Every chat waiting for the address now belongs to the account; a
		// oneOnOne chat keyed by the address is re-keyed by the pair.
		rows, err := db.txQuery(tx, `SELECT m.chat_id, m.request_from, COALESCE(c.pair_key, '') FROM chat_members m JOIN chats c ON c.id = m.chat_id WHERE m.user_id IS NULL AND m.address = ? AND m.held = 0`, addr)
		if err != nil {
			return fmt.Errorf("waiting chats: %w", err)
		}
		type waiting struct{ chat, from, pair string }
		var ws []waiting
		for rows.Next() {
			var w waiting
			if err := rows.Scan(&w.chat, &w.from, &w.pair); err != nil {
				rows.Close()
				return fmt.Errorf("waiting chats: %w", err)
			}
			ws = append(ws, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("waiting chats: %w", err)
		}
		for _, w := range ws {
			if _, err := db.txExec(tx, `UPDATE chat_members SET user_id = ? WHERE chat_id = ? AND user_id IS NULL AND address = ?`, u.ID, w.chat, addr); err != nil {
				return fmt.Errorf("hand over chat: %w", err)
			}
			if w.pair != "" {
				if _, err := db.txExec(tx, `UPDATE chats SET pair_key = ? WHERE id = ?`, chat.PairKey(identity.UserID(w.from), chat.UserPeer(u.ID)), w.chat); err != nil {
					return fmt.Errorf("re-key chat: %w", err)
				}
			}
		}
		return nil
	})
}

// SaveSignupCode replaces the pending sign-up of an address and queues its
// message in the same transaction.
func (db *DB) SaveSignupCode(ctx context.Context, c invite.SignupCode, msg *outbox.Message) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		// One statement: another node may save a code for the address at
		// the same moment, and the last one wins.
		if _, err := db.txExec(tx, `INSERT INTO signup_codes (address, code_hash, display_name, password_hash, expires_at, attempts) VALUES (?, ?, ?, ?, ?, 0)
			ON CONFLICT (address) DO UPDATE SET code_hash = excluded.code_hash, display_name = excluded.display_name, password_hash = excluded.password_hash, expires_at = excluded.expires_at, attempts = 0`,
			c.Address, c.CodeHash, c.DisplayName, c.PasswordHash, micros(c.ExpiresAt)); err != nil {
			return fmt.Errorf("save sign-up: %w", err)
		}
		if msg != nil {
			return db.insertOutbox(tx, *msg)
		}
		return nil
	})
}

// TakeSignupAttempt counts one attempt at the pending sign-up of an
// address and returns it with the attempts so far, this one included.
// Attempts that arrive together are counted one by one, on any node (see
// atomically). Errors: notFound.
func (db *DB) TakeSignupAttempt(ctx context.Context, addr string) (invite.SignupCode, error) {
	var c invite.SignupCode
	var exp int64
	err := db.atomically(ctx, func(tx *sql.Tx) error {
		return db.txQueryRow(tx, `UPDATE signup_codes SET attempts = attempts + 1 WHERE address = ?
			RETURNING address, code_hash, display_name, password_hash, expires_at, attempts`, addr).
			Scan(&c.Address, &c.CodeHash, &c.DisplayName, &c.PasswordHash, &exp, &c.Attempts)
	})
	if err != nil {
		return invite.SignupCode{}, notFound(err, "No sign-up for this address.")
	}
	c.ExpiresAt = fromMicros(exp)
	return c, nil
}

// DeleteSignupCode removes a pending sign-up.
func (db *DB) DeleteSignupCode(ctx context.Context, addr string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `DELETE FROM signup_codes WHERE address = ?`, addr); err != nil {
			return fmt.Errorf("delete sign-up: %w", err)
		}
		return nil
	})
}

// SaveResetCode replaces the pending password reset of an address and
// queues its message in the same transaction (no message: nothing to send).
func (db *DB) SaveResetCode(ctx context.Context, addr, codeHash string, expires time.Time, msg *outbox.Message) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		if _, err := db.txExec(tx, `INSERT INTO password_resets (address, code_hash, expires_at, attempts) VALUES (?, ?, ?, 0)
			ON CONFLICT (address) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0`, addr, codeHash, micros(expires)); err != nil {
			return fmt.Errorf("save reset: %w", err)
		}
		if msg != nil {
			return db.insertOutbox(tx, *msg)
		}
		return nil
	})
}

// TakeResetAttempt counts one attempt at the pending reset of an address
// and returns its code hash, expiry and attempts so far, this one
// included, counted one by one as TakeSignupAttempt. Errors: notFound.
func (db *DB) TakeResetAttempt(ctx context.Context, addr string) (string, time.Time, int, error) {
	var hash string
	var exp int64
	var attempts int
	err := db.atomically(ctx, func(tx *sql.Tx) error {
		return db.txQueryRow(tx, `UPDATE password_resets SET attempts = attempts + 1 WHERE address = ? RETURNING code_hash, expires_at, attempts`, addr).
			Scan(&hash, &exp, &attempts)
	})
	if err != nil {
		return "", time.Time{}, 0, notFound(err, "No reset for this address.")
	}
	return hash, fromMicros(exp), attempts, nil
}

// ResetPassword uses up the pending reset of addr with codeHash and, when
// it was still there, sets the password of the accounts signing in with
// addr and revokes their tokens, atomically: of two resets with the same
// code, one wins and the other finds the code gone (notFound).
func (db *DB) ResetPassword(ctx context.Context, addr, codeHash, passwordHash string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `DELETE FROM password_resets WHERE address = ? AND code_hash = ?`, addr, codeHash)
		if err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errcode.New(errcode.NotFound, "No reset for this address.")
		}
		if _, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id IN (SELECT id FROM users WHERE upn = ?)`, addr); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		if _, err := db.txExec(tx, `UPDATE users SET password_hash = ? WHERE upn = ?`, passwordHash, addr); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		return nil
	})
}
