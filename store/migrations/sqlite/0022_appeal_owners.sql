-- 包案 by user: each case's owners (users), for a leader's scope. The single owner name of
-- older appeals stays in the document as a title (it grants nothing), and the agent who logged
-- an appeal is recorded as a person too.
CREATE TABLE appeal_owners (
    user_id BLOB NOT NULL,
    appeal_id BLOB NOT NULL REFERENCES appeals (id),
    PRIMARY KEY (user_id, appeal_id)
);
CREATE INDEX appeal_owners_appeal ON appeal_owners (appeal_id);
UPDATE appeals
SET doc = json_set(json_remove(doc, '$.owner'), '$.owners',
                   json_array(json_object('name', json_extract(doc, '$.owner'))))
WHERE json_type(doc, '$.owner') = 'text';
UPDATE appeals SET doc = json_remove(doc, '$.owner') WHERE json_type(doc, '$.owner') IS NOT NULL;
UPDATE appeals
SET doc = json_set(doc, '$.logged_by', json_object('name', json_extract(doc, '$.logged_by')))
WHERE json_type(doc, '$.logged_by') = 'text';
DROP INDEX appeals_owner;
ALTER TABLE appeals DROP COLUMN owner;
