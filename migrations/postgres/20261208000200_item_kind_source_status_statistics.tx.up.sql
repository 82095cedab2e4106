-- An item's kind, source and status go together: conversations come from
-- the desktop app, and how often runs fail or are cancelled depends on where
-- they come from. Without statistics over the three PostgreSQL multiplies their
-- selectivities as if they were independent, and for source=slack &
-- status=failed in a team expected 25–37 rows where there were 92. Expecting
-- fewer than a page, it read all of the arm's 2,000 rows and sorted them
-- (7 ms at 100,000 items) rather than the newest in order from the arm's
-- index until the page was full (0.5 ms). Their combinations are few (two
-- kinds, seven sources, five statuses): the list of the most common holds
-- them all.
CREATE STATISTICS IF NOT EXISTS items_kind_source_status (mcv, dependencies) ON kind, source, status FROM items;
--bun:split
ANALYZE items;
