-- Search (docs/rules.md §7): each message's plain text (an HTML body
-- without its tags), written with the message, and its tsvector kept by
-- PostgreSQL (a stored generated column) under a GIN index, so a send, an
-- edit and a delete keep the index in step. Messages stored before this
-- keep their body as their text.
ALTER TABLE messages ADD COLUMN plain TEXT NOT NULL DEFAULT '';
UPDATE messages SET plain = content WHERE deleted_at = 0;
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(plain, '[!-/:-@\[-`{-~]', ' ', 'g'))) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
