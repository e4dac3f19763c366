-- Statistics facts in the shape the dashboards read fast with 100,000 appeals: the hour of each
-- fact and every unit its appeal reached (a leader's scope). The facts are derived from the
-- appeals, so the table is rebuilt: the store fills in the facts of every appeal that has none
-- when it migrates.
DROP TABLE stat_facts;
CREATE TABLE stat_facts (
    appeal_id UUID NOT NULL REFERENCES appeals (id),
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
CREATE INDEX stat_facts_at ON stat_facts (at_us, kind, unit);
CREATE INDEX stat_facts_dispatched ON stat_facts (kind, unit, appeal_id);
-- The open appeals past their resolution deadline (the overdue count), by status and deadline.
CREATE INDEX appeals_open_due ON appeals (status, resolve_due, unit, confidential);
