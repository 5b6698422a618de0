-- The outbound activity queue of bots (docs/rules.md §9): an activity is stored
-- before anyone waits on it, so it survives a restart or a crash of the node
-- that queued it. A worker claims an entry by moving next_attempt_at past the
-- time of its attempt, posts it, and deletes it once the bot has answered; a
-- failed attempt is counted and scheduled again. ids sort by queueing time.
CREATE TABLE bot_activities (
    id              TEXT PRIMARY KEY,
    bot_id          TEXT NOT NULL,
    activity        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX bot_activities_bot ON bot_activities(bot_id, next_attempt_at, id);
