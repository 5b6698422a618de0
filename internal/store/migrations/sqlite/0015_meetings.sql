-- Online meetings (docs/rules.md §8): a meeting of a host tenant with its join link
-- and its chat (a chats row of type 'meeting'); anonymous participants
-- (each with a users row of kind 'anonymous' in the host tenant) and their
-- lobby state; each tenant's meeting settings.
CREATE TABLE meetings (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL,
    organizer_id TEXT NOT NULL,
    subject      TEXT NOT NULL DEFAULT '',
    start_at     BIGINT NOT NULL,
    end_at       BIGINT NOT NULL,
    chat_id      TEXT NOT NULL UNIQUE,
    join_token   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    ended_at     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX meetings_organizer ON meetings(organizer_id);
CREATE TABLE meeting_participants (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    meeting_id   TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL,
    state        TEXT NOT NULL,
    arrived_at   BIGINT NOT NULL,
    admitted_at  BIGINT NOT NULL DEFAULT 0,
    left_at      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX meeting_participants_meeting ON meeting_participants(meeting_id, arrived_at);
CREATE TABLE meeting_config (
    tenant_id       TEXT PRIMARY KEY,
    allow_anonymous INTEGER NOT NULL,
    lobby_bypass    TEXT NOT NULL,
    anonymous_apps  INTEGER NOT NULL
);
