-- Nothing changes on PostgreSQL: its full-text index is a stored generated
-- column under GIN, whose pending list already batches the index's writes.
-- On SQLite this migration lets the FTS5 index follow the messages in
-- batches (internal/store/searchindex.go).
SELECT 1;
