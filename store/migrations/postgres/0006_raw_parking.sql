-- Parked deliveries are kept as they arrived: a body this version cannot read (or that is not
-- even JSON) is parked too, so the column holds text.
ALTER TABLE parked ALTER COLUMN envelope TYPE TEXT USING envelope::text;
CREATE INDEX parked_consumer ON parked (consumer, id);
