-- The event bus: consumer inboxes, parked deliveries, unit keywords for the interim router.

-- Events a consumer group has taken effect for, recorded in the same transaction as the effect.
CREATE TABLE inbox (
    consumer TEXT NOT NULL,
    event_id UUID NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

-- Deliveries a consumer gave up on after its retries, kept for an operator.
CREATE TABLE parked (
    id BIGSERIAL PRIMARY KEY,
    consumer TEXT NOT NULL,
    event_id UUID NOT NULL,
    envelope JSONB NOT NULL,
    error TEXT NOT NULL,
    parked_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE units ADD COLUMN keywords TEXT NOT NULL DEFAULT '[]';
