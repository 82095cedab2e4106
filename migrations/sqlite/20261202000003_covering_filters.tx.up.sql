-- PostgreSQL's arms' indexes now carry the filters' columns (see its
-- migration of the same name). SQLite's indexes carry no extra columns and
-- its planner keeps no such statistics: nothing changes here.
SELECT 1;
