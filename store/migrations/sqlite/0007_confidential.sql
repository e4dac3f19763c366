-- Confidential appeals (书记信箱, complaints about officials' conduct): a column the store's
-- scopes filter on. Everything that came through the mailbox before is confidential.
ALTER TABLE appeals ADD COLUMN confidential BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE appeals SET confidential = TRUE, doc = json_set(doc, '$.confidential', json('true'))
WHERE channel = 'mailbox';
CREATE INDEX appeals_confidential ON appeals (confidential, status, created_at);
