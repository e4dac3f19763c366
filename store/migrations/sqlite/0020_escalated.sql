-- Escalated appeals (督办): a leader in charge of the unit sees them; the store's scopes filter
-- on this column (`Appeal::is_escalated`).
ALTER TABLE appeals ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE appeals SET escalated = (
    COALESCE(json_extract(doc, '$.sla.level'), 0) >= 1
    OR COALESCE(json_extract(doc, '$.sla.response_escalated'), 0) = 1
);
CREATE INDEX appeals_escalated ON appeals (unit, escalated);
