-- Teams and standard channels (docs/rules.md §8). A team belongs to one
-- tenant; its members are that tenant's users and guests. Channel messages
-- live in messages (chat_id = the channel id), a reply naming its thread's
-- top-level message in reply_to (0: a top-level message or a chat message).
CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX teams_tenant ON teams(tenant_id, created_at, id);
CREATE TABLE team_members (
    id        TEXT PRIMARY KEY,
    team_id   TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    roles     TEXT NOT NULL DEFAULT '',
    joined_at BIGINT NOT NULL,
    added_by  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX team_members_team_user ON team_members(team_id, user_id);
CREATE INDEX team_members_user ON team_members(user_id, team_id);
-- name_key is the lower-cased name: live channel names are unique in a team.
CREATE TABLE channels (
    id           TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    is_general   INTEGER NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    deleted_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX channels_team ON channels(team_id, created_at, id);
CREATE UNIQUE INDEX channels_team_name ON channels(team_id, name_key) WHERE deleted_at = 0;
CREATE TABLE channel_reads (
    channel_id   TEXT NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_read_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
ALTER TABLE messages ADD COLUMN reply_to BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_replies ON messages(chat_id, reply_to, id) WHERE reply_to <> 0;
