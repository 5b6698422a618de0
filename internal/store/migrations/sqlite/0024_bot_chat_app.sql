-- A bot's 1:1 chat names its app (docs/rules.md §9): the catalog app whose
-- bot it is, and the app's name when the chat was opened (kept for an app
-- since deleted from the catalog; answers read the catalog's current name).
-- Existing bot chats get the app their bot's organisation lists first, as
-- the server picks it (by name, then id).
ALTER TABLE chats ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE chats ADD COLUMN app_name TEXT NOT NULL DEFAULT '';
UPDATE chats SET
    app_id = COALESCE((SELECT a.id FROM apps a WHERE a.bot_id = chats.created_by AND a.tenant_id = chats.tenant_id ORDER BY a.display_name, a.id LIMIT 1), ''),
    app_name = COALESCE((SELECT a.display_name FROM apps a WHERE a.bot_id = chats.created_by AND a.tenant_id = chats.tenant_id ORDER BY a.display_name, a.id LIMIT 1), '')
WHERE pair_key LIKE '%|28:%';
