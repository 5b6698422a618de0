-- A person's message whose card came from an app's message extension
-- (docs/rules.md §9): the app's catalog id and its name when posted. The
-- card's actions reach that app's bot.
ALTER TABLE messages ADD COLUMN via_app_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN via_app_name TEXT NOT NULL DEFAULT '';
