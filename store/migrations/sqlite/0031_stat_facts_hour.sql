-- The dashboards' days: a period's facts per kind and hour over every unit, summed from an
-- index that covers them, in its order (one kind after another, seeking the period's hours in
-- each), where grouping by unit and hour returned a row for most units in most hours.
CREATE INDEX stat_facts_hour ON stat_facts
    (kind, hour, at_us, confidential, unit, flag, value, reached);
-- The sums by matter and channel read `flag` and `value` too, and a unit's scope its `unit`:
-- with them in the index it covers them (a scan of the index in the grouping's order, without
-- a lookup of each fact's row).
DROP INDEX stat_facts_matter;
CREATE INDEX stat_facts_matter ON stat_facts
    (kind, matter, channel, at_us, confidential, unit, flag, value, reached);
-- The planner skip-scans the few kinds only when it knows there are few (as in 0025).
DELETE FROM sqlite_stat1 WHERE tbl = 'stat_facts' AND idx IN ('stat_facts_hour', 'stat_facts_matter');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('stat_facts', 'stat_facts_hour', '1000000 200000 20 2 1 1 1 1 1'),
    ('stat_facts', 'stat_facts_matter', '1000000 200000 5000 2000 2 1 1 1 1 1');
