-- A campaign's number held back by its operator's rate is marked with that
-- operator: the next steps take the others' numbers without looking at it
-- again (one operator's spent rate holds no one else back), and take it
-- first when its operator's rate allows.

-- +goose Up
ALTER TABLE campaign_numbers ADD COLUMN held text;
CREATE INDEX campaign_numbers_fresh ON campaign_numbers (campaign_id, n)
    WHERE message_id IS NULL AND skipped = '' AND held IS NULL;
CREATE INDEX campaign_numbers_held ON campaign_numbers (campaign_id, held, n)
    WHERE message_id IS NULL AND skipped = '' AND held IS NOT NULL;

-- +goose Down
DROP INDEX campaign_numbers_held;
DROP INDEX campaign_numbers_fresh;
ALTER TABLE campaign_numbers DROP COLUMN held;
