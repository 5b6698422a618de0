-- Search (docs/rules.md §7) covers channel messages: those stored before
-- this get their body as their text, as chat messages did when search
-- came (the index follows: FTS5 through its trigger, PostgreSQL through
-- the generated column).
UPDATE messages SET plain = content WHERE plain = '' AND deleted_at = 0 AND chat_id IN (SELECT id FROM channels);
