-- Statistics facts in the shape the dashboards read fast with 100,000 appeals: the hour of each
-- fact and every unit its appeal reached (a leader's scope), one covering index per grouping.
-- The facts are derived from the appeals, so the table is rebuilt: the store fills in the facts
-- of every appeal that has none when it migrates.
DROP TABLE stat_facts;
CREATE TABLE stat_facts (
    appeal_id BLOB NOT NULL REFERENCES appeals (id),
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- When it counts, in microseconds since 1970-01-01 UTC.
    at_us BIGINT NOT NULL,
    -- The same in whole hours (`at_us` divided by 3,600,000,000): days in the city's time zone.
    hour BIGINT NOT NULL,
    unit TEXT,
    flag BOOLEAN NOT NULL,
    value BIGINT,
    -- The appeal's, as it now is: what the scopes of the statistics filter on.
    confidential BOOLEAN NOT NULL,
    channel TEXT NOT NULL,
    matter TEXT,
    -- Every unit the appeal was ever dispatched to, as ",A,B," (a leader's scope).
    reached TEXT NOT NULL,
    PRIMARY KEY (appeal_id, n)
);
-- Each grouping of a period reads an index of its own that covers it, one kind and key after
-- another (a skip-scan over the few kinds and keys, seeking the period in each), so the sums
-- come in the index's order and need no sort.
CREATE INDEX stat_facts_unit ON stat_facts
    (kind, unit, hour, at_us, confidential, flag, value, reached);
CREATE INDEX stat_facts_matter ON stat_facts (kind, matter, channel, at_us, confidential, reached);
CREATE INDEX stat_facts_dispatched ON stat_facts (kind, unit, appeal_id);
-- The planner skip-scans only when it knows the leading columns hold few values: say so before
-- the table fills (a later ANALYZE measures the same shape).
ANALYZE stat_facts;
DELETE FROM sqlite_stat1 WHERE tbl = 'stat_facts';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('stat_facts', 'stat_facts_unit', '1000000 200000 20000 20 2 1 1 1 1'),
    ('stat_facts', 'stat_facts_matter', '1000000 200000 5000 2000 2 1 1'),
    ('stat_facts', 'stat_facts_dispatched', '1000000 200000 20000 1');
-- The open appeals past their resolution deadline (the overdue count), by status and deadline.
CREATE INDEX appeals_open_due ON appeals (status, resolve_due, unit, confidential);
