-- Parked deliveries are kept as they arrived (the column is TEXT already on SQLite); an index
-- for an operator looking up what a consumer parked.
CREATE INDEX parked_consumer ON parked (consumer, id);
