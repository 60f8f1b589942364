-- A number's places in campaigns' audiences, found by the number: a
-- citizen's export and erasure look there (the primary key leads with
-- the campaign, so without this each would read every audience).

-- +goose Up
CREATE INDEX campaign_numbers_phone ON campaign_numbers (phone);

-- +goose Down
DROP INDEX campaign_numbers_phone;
