-- Spam checks (docs/rules.md §10): requests held in the filtered list, and the
-- content fingerprints of first messages to detect one text sent to many.
ALTER TABLE chat_members ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
CREATE INDEX chat_members_request_from ON chat_members(request_from, joined_at);
CREATE TABLE request_content (
    sender_id  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (sender_id, hash, chat_id)
);
