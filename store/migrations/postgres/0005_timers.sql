-- Timers (SPEC §6): each appeal's next time-limit step, kept with the projection in the same
-- transaction, claimed by a worker for a lease.

ALTER TABLE appeals ADD COLUMN due_at TIMESTAMPTZ;
ALTER TABLE appeals ADD COLUMN timer_lease TIMESTAMPTZ;
CREATE INDEX appeals_due_at ON appeals (due_at) WHERE due_at IS NOT NULL;

-- Appeals from before timers: due now, so the worker fires what they missed or sets their timer.
UPDATE appeals SET due_at = created_at
WHERE status IN ('received', 'dispatched', 'accepted', 'returned', 'reopened', 'replied');
