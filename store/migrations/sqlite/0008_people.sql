-- People: the users of the platform, the tokens revoked before they expire, and the user
-- behind each event (absent in events stored before, and for the platform and the public).
CREATE TABLE users (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit TEXT,
    -- The units a leader or supervisor is in charge of, as a JSON array of codes.
    in_charge_of TEXT NOT NULL DEFAULT '[]',
    mailbox_reader BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX users_created ON users (created_at);

CREATE TABLE revoked_tokens (
    id BLOB PRIMARY KEY,
    revoked_at TEXT NOT NULL,
    -- When the token would have expired anyway: the row may go after it.
    expires_at TEXT
);

ALTER TABLE events ADD COLUMN actor_id BLOB;
