-- Oversight: the leader who owns a case (包案).

ALTER TABLE appeals ADD COLUMN owner TEXT;
CREATE INDEX appeals_owner ON appeals (owner);
