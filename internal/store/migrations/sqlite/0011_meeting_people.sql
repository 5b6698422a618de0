-- Signed-in people who join a meeting by its link (docs/rules.md §8): one row
-- per meeting and person, waiting in the lobby until someone who may admit
-- lets them in (they then join the meeting chat as a member) or sends them
-- away. Anonymous participants keep meeting_participants. No foreign key to
-- meetings: on a new store this file runs before the one that creates that
-- table; rows are written only for meetings that exist.
CREATE TABLE meeting_people (
    meeting_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,
    arrived_at  BIGINT NOT NULL,
    decided_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (meeting_id, user_id)
);
-- The sweep asks for meetings with people still waiting.
CREATE INDEX meeting_people_state ON meeting_people(state, meeting_id);
