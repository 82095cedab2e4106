-- Each channel's running account of an item's usage: the sums of its usage
-- records, kept as records arrive, so that an item's credits never need a
-- recount of every record of a long session.
CREATE TABLE usage_accounts (
    item_id              TEXT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    channel              TEXT NOT NULL,
    credits              INTEGER NOT NULL DEFAULT 0,
    input_tokens         INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens        INTEGER NOT NULL DEFAULT 0,
    -- Models whose records had no price, comma-separated.
    unpriced_models      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (item_id, channel)
);
