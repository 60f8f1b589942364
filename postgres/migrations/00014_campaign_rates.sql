-- A campaign's rate per operator (messages a second for its numbers).

-- +goose Up
ALTER TABLE campaigns ADD COLUMN rates jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE campaigns DROP COLUMN rates;
