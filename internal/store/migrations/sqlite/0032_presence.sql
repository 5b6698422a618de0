-- Presence (docs/rules.md §7): each node's liveness, the people with an
-- events connection open on it (and when they last acted), and the status
-- a person chose. A node that stops renewing its row stops counting, so a
-- crashed node's people turn offline.
CREATE TABLE presence_nodes (
    node    TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
CREATE TABLE presence_sessions (
    node        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    connections INTEGER NOT NULL,
    active_at   BIGINT NOT NULL,
    PRIMARY KEY (node, user_id)
);
CREATE INDEX presence_sessions_user ON presence_sessions(user_id);
CREATE TABLE presence_preferred (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    availability TEXT NOT NULL,
    activity     TEXT NOT NULL,
    until_at     BIGINT NOT NULL
);
