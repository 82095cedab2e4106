-- Search (q): the words of the title and the first prompt, stemmed in
-- English, kept by the database itself.
ALTER TABLE items ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || first_prompt)) STORED;
--bun:split
CREATE INDEX items_search ON items USING GIN (search);
