-- The statistics over (team_id, creator_id) keep the most common pairs of
-- the two, a hundred by default. A team of some size has more pairs than
-- that: 200 people in 20 teams make 467. For a pair left out of the list
-- PostgreSQL expects a few rows where there are hundreds, and asked for a
-- teammate's items it reads and sorts all of them rather than the newest 51
-- in order (225 rows sorted, 4 ms, against 0.4 ms at 100,000 items); which
-- pairs are left out depends on the sample each ANALYZE draws. A thousand
-- pairs cover the people of instances several times that size; ANALYZE then
-- samples 300,000 rows rather than 30,000 (12 s at ten million items).
ALTER STATISTICS items_team_creator SET STATISTICS 1000;
--bun:split
ANALYZE items;
