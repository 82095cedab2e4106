-- Search (q): an FTS5 index of the title and the first prompt, stemmed by
-- Porter, kept in step with items by triggers. It follows items by rowid,
-- which only a VACUUM renumbers: after one, rebuild it with
-- INSERT INTO items_fts (items_fts) VALUES ('rebuild').
CREATE VIRTUAL TABLE items_fts USING fts5(title, first_prompt, content='items', content_rowid='rowid', tokenize='porter unicode61');
--bun:split
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, title, first_prompt) VALUES (new.rowid, new.title, new.first_prompt);
END;
--bun:split
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, first_prompt) VALUES ('delete', old.rowid, old.title, old.first_prompt);
END;
--bun:split
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, first_prompt ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, title, first_prompt) VALUES ('delete', old.rowid, old.title, old.first_prompt);
    INSERT INTO items_fts (rowid, title, first_prompt) VALUES (new.rowid, new.title, new.first_prompt);
END;
--bun:split
INSERT INTO items_fts (items_fts) VALUES ('rebuild');
