-- Per-key limits: messages a day (in the country's time) and requests a
-- second; 0 is the gateway's default.

-- +goose Up
ALTER TABLE api_keys
    ADD COLUMN per_day    integer NOT NULL DEFAULT 0 CHECK (per_day >= 0),
    ADD COLUMN per_second real NOT NULL DEFAULT 0 CHECK (per_second >= 0);

-- +goose Down
ALTER TABLE api_keys DROP COLUMN per_second, DROP COLUMN per_day;
