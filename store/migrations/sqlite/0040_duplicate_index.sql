-- The duplicate index: what the router compares a new appeal with, looked up instead of read
-- from the latest appeals. Written with the appeal in the same transaction; the store fills it
-- in for appeals stored before it when it migrates.

-- One row per indexed appeal, with its normalised address (`signature::address_of`).
CREATE TABLE duplicate_signatures (
    appeal_id BLOB PRIMARY KEY REFERENCES appeals (id),
    -- When the appeal came in, in microseconds since 1970-01-01 UTC.
    at_us BIGINT NOT NULL,
    address TEXT
);
CREATE INDEX duplicate_signatures_address ON duplicate_signatures (address, at_us)
    WHERE address IS NOT NULL;

-- The LSH band keys of each appeal's text (`signature::bands_of`), one row per band. No
-- foreign key (appeals are never deleted): the rows an appeal adds cost only their index.
CREATE TABLE duplicate_bands (
    band BIGINT NOT NULL,
    at_us BIGINT NOT NULL,
    appeal_id BLOB NOT NULL,
    PRIMARY KEY (band, at_us, appeal_id)
) WITHOUT ROWID;

-- A caller's latest appeals within a window.
CREATE INDEX appellant_keys_recent ON appellant_keys (key, created_at);
