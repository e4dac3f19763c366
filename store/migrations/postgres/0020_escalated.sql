-- Escalated appeals (督办): a leader in charge of the unit sees them; the store's scopes filter
-- on this column (`Appeal::is_escalated`).
ALTER TABLE appeals ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE appeals SET escalated = (
    COALESCE((doc -> 'sla' ->> 'level')::int, 0) >= 1
    OR COALESCE((doc -> 'sla' ->> 'response_escalated')::boolean, FALSE)
);
CREATE INDEX appeals_escalated ON appeals (unit, escalated);
