-- Core: tenants, users, tokens, chats, members, messages, events, settings.
-- Times are Unix microseconds (0 = none), booleans 0/1, so SQL is shared with PostgreSQL.
CREATE TABLE tenants (
    id           TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE TABLE tenant_domains (
    domain    TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE
);
CREATE INDEX tenant_domains_tenant ON tenant_domains(tenant_id);
CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    tenant_id             TEXT REFERENCES tenants(id) ON DELETE CASCADE,
    kind                  TEXT NOT NULL,
    role                  TEXT NOT NULL,
    display_name          TEXT NOT NULL,
    upn                   TEXT NOT NULL,
    mail                  TEXT NOT NULL DEFAULT '',
    phone                 TEXT NOT NULL DEFAULT '',
    password_hash         TEXT NOT NULL,
    allow_chats_from_orgs INTEGER NOT NULL DEFAULT 1,
    event_seq             BIGINT NOT NULL DEFAULT 0,
    created_at            BIGINT NOT NULL
);
-- One account per sign-in name within a tenant (guests may share an address across hosts).
CREATE UNIQUE INDEX users_tenant_upn ON users(COALESCE(tenant_id, ''), upn);
CREATE INDEX users_upn ON users(upn);
CREATE INDEX users_mail ON users(mail);
CREATE INDEX users_phone ON users(phone);
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX tokens_user ON tokens(user_id);
CREATE TABLE chats (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    topic      TEXT NOT NULL DEFAULT '',
    tenant_id  TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    external   INTEGER NOT NULL DEFAULT 0,
    pair_key   TEXT UNIQUE
);
CREATE TABLE chat_members (
    id           TEXT PRIMARY KEY,
    chat_id      TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    user_id      TEXT REFERENCES users(id) ON DELETE CASCADE,
    roles        TEXT NOT NULL DEFAULT '',
    visible_from BIGINT NOT NULL,
    joined_at    BIGINT NOT NULL,
    state        TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    added_by     TEXT NOT NULL DEFAULT '',
    last_read_at BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX chat_members_chat_user ON chat_members(chat_id, user_id);
CREATE INDEX chat_members_user ON chat_members(user_id, chat_id);
CREATE TABLE messages (
    id           BIGSERIAL PRIMARY KEY,
    chat_id      TEXT NOT NULL,
    sender_id    TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    modified_at  BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL,
    content      TEXT NOT NULL,
    mentions     TEXT NOT NULL DEFAULT '',
    attachments  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX messages_chat ON messages(chat_id, id);
CREATE TABLE events (
    user_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    type       TEXT NOT NULL,
    chat_id    TEXT NOT NULL DEFAULT '',
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
