-- The full-text index follows the messages instead of being written in the
-- commit of each one (internal/store/searchindex.go): a send's commit no
-- longer writes FTS5 pages, and the index takes the new messages in batches.
-- search_indexed holds the last message id the index has taken; a search
-- first brings the index up to the newest message, so it finds every
-- message stored before it started. Edits and deletes keep the index in
-- step for the messages it holds; a message it does not hold yet is taken
-- with its text as it is when its turn comes.
CREATE TABLE search_indexed (upto INTEGER NOT NULL);
INSERT INTO search_indexed (upto) SELECT COALESCE(MAX(id), 0) FROM messages;
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF plain ON messages WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, plain) VALUES ('delete', old.id, old.plain);
    INSERT INTO messages_fts(rowid, plain) VALUES (new.id, new.plain);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, plain) VALUES ('delete', old.id, old.plain);
END;
