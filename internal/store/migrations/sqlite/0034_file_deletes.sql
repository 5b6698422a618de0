-- Files (docs/rules.md §7): a file is deleted (deleted_at, its bytes
-- removed from the file store) once no live message attaches it; a chat's
-- files are listed newest first.
ALTER TABLE files ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX files_chat_created ON files(chat_id, created_at, id);
