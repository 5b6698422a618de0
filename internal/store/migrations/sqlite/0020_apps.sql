-- Apps and bots (docs/rules.md §9): bot registrations, each tenant's app catalog,
-- installs in chats, teams and personal scopes, app permission and setup
-- policies with their grants, and the application sender of a bot's messages.
CREATE TABLE app_bots (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX app_bots_tenant ON app_bots(tenant_id);
CREATE TABLE apps (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    display_name TEXT NOT NULL,
    version      TEXT NOT NULL,
    bot_id       TEXT NOT NULL DEFAULT '',
    scopes       INTEGER NOT NULL,
    manifest     TEXT NOT NULL,
    blocked      INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX apps_bot ON apps(bot_id);
-- scope_kind: chat, team or user; scope_id the chat, team or user id.
CREATE TABLE app_installs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    app_id       TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    scope_kind   TEXT NOT NULL,
    scope_id     TEXT NOT NULL,
    version      TEXT NOT NULL,
    installed_by TEXT NOT NULL,
    pinned       INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (scope_kind, scope_id, app_id)
);
CREATE INDEX app_installs_app ON app_installs(app_id);
-- kind: permission or setup; apps and pinned are comma-separated app ids.
CREATE TABLE app_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    mode      TEXT NOT NULL DEFAULT '',
    apps      TEXT NOT NULL DEFAULT '',
    pinned    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, kind, name)
);
CREATE TABLE app_policy_grants (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    policy_name TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE INDEX app_policy_grants_policy ON app_policy_grants(tenant_id, kind, policy_name);
-- A bot's message: sender_id is the bot's id and sender_app its display name.
ALTER TABLE messages ADD COLUMN sender_app TEXT NOT NULL DEFAULT '';
