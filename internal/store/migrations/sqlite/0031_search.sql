-- Search (docs/rules.md §7): each message's plain text (an HTML body
-- without its tags), written with the message, indexed by FTS5 through
-- triggers, so a send, an edit and a delete keep the index in step inside
-- the same transaction. Messages stored before this keep their body as
-- their text.
ALTER TABLE messages ADD COLUMN plain TEXT NOT NULL DEFAULT '';
UPDATE messages SET plain = content WHERE deleted_at = 0;
CREATE VIRTUAL TABLE messages_fts USING fts5(plain, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 0');
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, plain) VALUES (new.id, new.plain);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF plain ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, plain) VALUES ('delete', old.id, old.plain);
    INSERT INTO messages_fts(rowid, plain) VALUES (new.id, new.plain);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, plain) VALUES ('delete', old.id, old.plain);
END;
