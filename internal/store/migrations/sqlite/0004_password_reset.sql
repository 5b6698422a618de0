-- Password reset codes (docs/rules.md §6: the reset call says nothing about existence).
CREATE TABLE password_resets (
    address    TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
