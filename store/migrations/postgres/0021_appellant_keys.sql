-- Who each appeal is from (phone digits, USCC, WeChat id: `Appellant::keys`), for an agent's
-- lookup of a caller's history.
CREATE TABLE appellant_keys (
    key TEXT NOT NULL,
    appeal_id UUID NOT NULL REFERENCES appeals (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (key, appeal_id)
);
CREATE INDEX appellant_keys_appeal ON appellant_keys (appeal_id);
INSERT INTO appellant_keys (key, appeal_id, created_at)
SELECT 'phone:' || regexp_replace(regexp_replace(doc -> 'appellant' ->> 'phone', '^\s*\+86', ''),
                                  '[^0-9]', '', 'g'),
       id, created_at
FROM appeals WHERE doc -> 'appellant' ->> 'phone' IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO appellant_keys (key, appeal_id, created_at)
SELECT 'uscc:' || upper(trim(doc -> 'appellant' ->> 'uscc')), id, created_at
FROM appeals WHERE doc -> 'appellant' ->> 'uscc' IS NOT NULL
ON CONFLICT DO NOTHING;
INSERT INTO appellant_keys (key, appeal_id, created_at)
SELECT 'wechat:' || trim(doc -> 'appellant' ->> 'wechat_openid'), id, created_at
FROM appeals WHERE doc -> 'appellant' ->> 'wechat_openid' IS NOT NULL
ON CONFLICT DO NOTHING;
