-- SQLite's 0031 gives its planner covering indexes for the sums by hour and by matter and
-- channel; PostgreSQL reads a period's facts from stat_facts_at (0025) and sums them in a hash:
-- nothing to change here, the number kept in step with SQLite's.
SELECT 1;
