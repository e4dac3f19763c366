-- 包案 by user: each case's owners (users), for a leader's scope. The single owner name of
-- older appeals stays in the document as a title (it grants nothing), and the agent who logged
-- an appeal is recorded as a person too.
CREATE TABLE appeal_owners (
    user_id UUID NOT NULL,
    appeal_id UUID NOT NULL REFERENCES appeals (id),
    PRIMARY KEY (user_id, appeal_id)
);
CREATE INDEX appeal_owners_appeal ON appeal_owners (appeal_id);
UPDATE appeals
SET doc = (doc - 'owner')
          || jsonb_build_object('owners', jsonb_build_array(jsonb_build_object('name', doc ->> 'owner')))
WHERE jsonb_typeof(doc -> 'owner') = 'string';
UPDATE appeals SET doc = doc - 'owner' WHERE doc -> 'owner' IS NOT NULL;
UPDATE appeals
SET doc = jsonb_set(doc, '{logged_by}', jsonb_build_object('name', doc ->> 'logged_by'))
WHERE jsonb_typeof(doc -> 'logged_by') = 'string';
DROP INDEX appeals_owner;
ALTER TABLE appeals DROP COLUMN owner;
