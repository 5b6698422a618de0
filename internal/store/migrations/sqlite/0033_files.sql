-- Files (docs/rules.md §7): a file uploaded to a chat (its bytes are in the
-- file store, by id), and a tenant's setting on sharing files with people
-- outside it (a missing row: allowed).
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    uploader_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    has_thumb    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_chat ON files(chat_id);
CREATE TABLE file_config (
    tenant_id      TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    allow_external INTEGER NOT NULL
);
