-- The appeal store on SQLite (embedded mode).

CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    demo BOOLEAN NOT NULL DEFAULT FALSE
);

-- The projection: the current state of each appeal, kept in the same transaction as its events.
CREATE TABLE appeals (
    id BLOB PRIMARY KEY,
    ticket_no TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    unit TEXT,
    matter TEXT,
    response_due TEXT,
    resolve_due TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX appeals_status ON appeals (status, created_at);
CREATE INDEX appeals_unit ON appeals (unit, status);
CREATE INDEX appeals_resolve_due ON appeals (resolve_due);

-- The event log: append-only, the appeal's history.
CREATE TABLE events (
    id BLOB PRIMARY KEY,
    appeal_id BLOB NOT NULL REFERENCES appeals (id),
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    data TEXT NOT NULL,
    UNIQUE (appeal_id, seq)
);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Events waiting to be published to the bus, written in the same transaction as the change.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id BLOB NOT NULL UNIQUE,
    appeal_id BLOB NOT NULL,
    routing_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Idempotency keys of submissions, scoped per caller.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    appeal_id BLOB NOT NULL REFERENCES appeals (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (caller, key)
);

-- Per-day ticket number counters.
CREATE TABLE ticket_counters (
    day TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);
