-- Routing: dispatcher corrections kept as training examples.

CREATE TABLE training_examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    appeal_id BLOB NOT NULL,
    text TEXT NOT NULL,
    -- The service matter the dispatcher chose, when they named one.
    matter TEXT,
    unit TEXT NOT NULL,
    -- What the router had suggested.
    suggested_matter TEXT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX training_examples_created ON training_examples (created_at);
