-- API keys that can be listed, revoked, expire, and say when they were last
-- used. id names a key for people (from its hash: it tells nothing of the
-- key).

-- +goose Up
ALTER TABLE api_keys
    ADD COLUMN id        text,
    ADD COLUMN expires   timestamptz,
    ADD COLUMN last_used timestamptz,
    ADD COLUMN revoked   timestamptz;
UPDATE api_keys SET id = 'key_' || encode(substr(hash, 1, 6), 'hex');
ALTER TABLE api_keys ALTER COLUMN id SET NOT NULL, ADD CONSTRAINT api_keys_id UNIQUE (id);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN revoked, DROP COLUMN last_used, DROP COLUMN expires, DROP COLUMN id;
