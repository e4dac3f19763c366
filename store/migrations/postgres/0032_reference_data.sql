-- Reference data (基础数据), versioned: the taxonomy (units, categories, matters), the holiday
-- calendar and the time-limit policies, each a text in the format of its shipped file. The
-- shipped files (or the configured ones) are version 1 of a database that has none; an admin
-- saves new versions and publishes one, which every process then loads.
CREATE TABLE reference_versions (
    -- taxonomy, calendar or policies.
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    note TEXT NOT NULL,
    -- Who saved it (the admin's name), or system.
    author TEXT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, version)
);

-- Every publication, in order: the current version of a kind is the one published last (an
-- older version published again is current again).
CREATE TABLE reference_publications (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (kind, version) REFERENCES reference_versions (kind, version)
);
CREATE INDEX reference_publications_kind ON reference_publications (kind, id);
