-- The appeal store on PostgreSQL (distributed mode).

CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    demo BOOLEAN NOT NULL DEFAULT FALSE
);

-- The projection: the current state of each appeal, kept in the same transaction as its events.
CREATE TABLE appeals (
    id UUID PRIMARY KEY,
    ticket_no TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    unit TEXT,
    matter TEXT,
    response_due TIMESTAMPTZ,
    resolve_due TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL,
    doc JSONB NOT NULL
);
CREATE INDEX appeals_status ON appeals (status, created_at);
CREATE INDEX appeals_unit ON appeals (unit, status);
CREATE INDEX appeals_resolve_due ON appeals (resolve_due);

-- The event log: append-only, the appeal's history.
CREATE TABLE events (
    id UUID PRIMARY KEY,
    appeal_id UUID NOT NULL REFERENCES appeals (id),
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    data JSONB NOT NULL,
    UNIQUE (appeal_id, seq)
);
CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Events waiting to be published to the bus, written in the same transaction as the change.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL UNIQUE,
    appeal_id UUID NOT NULL,
    routing_key TEXT NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;

-- Idempotency keys of submissions, scoped per caller.
CREATE TABLE idempotency_keys (
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    appeal_id UUID NOT NULL REFERENCES appeals (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (caller, key)
);

-- Per-day ticket number counters.
CREATE TABLE ticket_counters (
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
