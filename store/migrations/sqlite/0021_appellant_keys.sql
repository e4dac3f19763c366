-- Who each appeal is from (phone digits, USCC, WeChat id: `Appellant::keys`), for an agent's
-- lookup of a caller's history.
CREATE TABLE appellant_keys (
    key TEXT NOT NULL,
    appeal_id BLOB NOT NULL REFERENCES appeals (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (key, appeal_id)
);
CREATE INDEX appellant_keys_appeal ON appellant_keys (appeal_id);
INSERT OR IGNORE INTO appellant_keys (key, appeal_id, created_at)
SELECT 'phone:' || replace(replace(replace(
           CASE WHEN json_extract(doc, '$.appellant.phone') LIKE '+86%'
                THEN substr(json_extract(doc, '$.appellant.phone'), 4)
                ELSE json_extract(doc, '$.appellant.phone') END,
           '-', ''), ' ', ''), '+', ''),
       id, created_at
FROM appeals WHERE json_extract(doc, '$.appellant.phone') IS NOT NULL;
INSERT OR IGNORE INTO appellant_keys (key, appeal_id, created_at)
SELECT 'uscc:' || upper(trim(json_extract(doc, '$.appellant.uscc'))), id, created_at
FROM appeals WHERE json_extract(doc, '$.appellant.uscc') IS NOT NULL;
INSERT OR IGNORE INTO appellant_keys (key, appeal_id, created_at)
SELECT 'wechat:' || trim(json_extract(doc, '$.appellant.wechat_openid')), id, created_at
FROM appeals WHERE json_extract(doc, '$.appellant.wechat_openid') IS NOT NULL;
