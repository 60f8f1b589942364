-- A campaign made through the API counts its messages against the day of
-- the key that made it (key_id; '' from the console: no key); when that
-- day is spent the gateway pauses it and says why (paused_because).

-- +goose Up
ALTER TABLE campaigns
    ADD COLUMN key_id         text NOT NULL DEFAULT '',
    ADD COLUMN paused_because text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE campaigns DROP COLUMN paused_because, DROP COLUMN key_id;
