-- Each applied migration's SHA-256 (of its file, line endings as LF), so
-- that a start refuses a store whose applied migrations' files changed
-- since. The store fills it for migrations applied before this one.
ALTER TABLE schema_migrations ADD COLUMN checksum TEXT NOT NULL DEFAULT '';
