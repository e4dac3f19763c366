-- Statistics (dashboards): what each appeal contributes to a period's figures
-- (`hotline_schemas::stats::facts`), rewritten with the appeal in the same transaction, so that
-- a period is summed in SQL instead of reading every appeal. The store fills in the facts of
-- appeals stored before this table when it migrates.
CREATE TABLE stat_facts (
    appeal_id UUID NOT NULL REFERENCES appeals (id),
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- When it counts, in microseconds since 1970-01-01 UTC.
    at_us BIGINT NOT NULL,
    unit TEXT,
    flag BOOLEAN NOT NULL,
    value BIGINT,
    -- The appeal's, as it now is: what the scopes of the statistics filter on.
    confidential BOOLEAN NOT NULL,
    channel TEXT NOT NULL,
    matter TEXT,
    PRIMARY KEY (appeal_id, n)
);
CREATE INDEX stat_facts_at ON stat_facts (at_us, kind, unit);
CREATE INDEX stat_facts_dispatched ON stat_facts (kind, unit, appeal_id);
