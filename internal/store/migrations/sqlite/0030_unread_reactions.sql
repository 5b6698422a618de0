-- Unread counts (docs/rules.md §7, kept on the server): a member's unread
-- messages are a chat's messages after their read mark, counted through
-- this index at read time, so a send writes nothing per member.
CREATE INDEX messages_chat_time ON messages(chat_id, created_at);
-- Reactions (docs/rules.md §7) live on their message's row, as JSON: the
-- message list reads them with the messages, and a reaction is one
-- decision on one row (the distinct-reaction limit holds under concurrency).
ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '';
