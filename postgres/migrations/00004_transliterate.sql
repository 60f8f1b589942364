-- A message whose template asks to be spelt in GSM-7 (ê → e), whatever
-- the operator: 160 characters a part instead of UCS-2's 70.

-- +goose Up
ALTER TABLE outbox ADD COLUMN transliterate boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE outbox DROP COLUMN transliterate;
