package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/parleychat/parley/internal/errcode"
	"github.com/parleychat/parley/internal/identity"
)

// SetDisplayName renames a user. Chats show members with their user's
// name, so the write invalidates every cached chat (inWrite). Errors:
// notFound.
func (db *DB) SetDisplayName(ctx context.Context, id identity.UserID, name string) error {
	return db.inWrite(ctx, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE users SET display_name = ? WHERE id = ?`, name, id)
		if err != nil {
			return fmt.Errorf("set display name: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set display name: %w", err)
		} else if n == 0 {
			return errcode.New(errcode.NotFound, "No user %s.", id)
		}
		return nil
	})
}

// PasswordHash returns a user's stored password hash. Errors: notFound.
func (db *DB) PasswordHash(ctx context.Context, id identity.UserID) (string, error) {
	var h string
	if err := db.queryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&h); err != nil {
		return "", notFound(err, "No user %s.", id)
	}
	return h, nil
}

// SetPassword stores a new password hash for a user, if the stored hash is
// still oldHash (so of two changes made with the same current password
// only one wins), and revokes every token of the user except keep,
// atomically. Errors: notFound when the hash changed meanwhile.
func (db *DB) SetPassword(ctx context.Context, id identity.UserID, oldHash, newHash string, keep []byte) error {
	return db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, newHash, id, oldHash)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("set password: %w", err)
		} else if n == 0 {
			return errcode.New(errcode.NotFound, "The password changed meanwhile.")
		}
		if _, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id = ? AND hash <> ?`, id, hex.EncodeToString(keep)); err != nil {
			return fmt.Errorf("revoke other tokens: %w", err)
		}
		return nil
	})
}

// DeleteOtherTokens revokes every token of a user except keep and returns
// how many it revoked.
func (db *DB) DeleteOtherTokens(ctx context.Context, id identity.UserID, keep []byte) (int, error) {
	var n int64
	err := db.inWriteTouching(ctx, touchNone, func(tx *sql.Tx) error {
		res, err := db.txExec(tx, `DELETE FROM tokens WHERE user_id = ? AND hash <> ?`, id, hex.EncodeToString(keep))
		if err != nil {
			return fmt.Errorf("revoke other tokens: %w", err)
		}
		n, err = res.RowsAffected()
		if err != nil {
			return fmt.Errorf("revoke other tokens: %w", err)
		}
		return nil
	})
	return int(n), err
}
