-- The appeals a user submitted (an agent's own calls, 首问责任): their first event's user.
CREATE INDEX events_submitted_by ON events (actor_id, appeal_id) WHERE seq = 1;
