-- Awareness campaigns: the campaign, its audience (each number once, in
-- the order given; the message it got, or why it got none), and the
-- campaign of each outbox message, for its progress.

-- +goose Up
CREATE TABLE campaigns (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner       text NOT NULL DEFAULT '',
    name        text NOT NULL,
    text_fr     text NOT NULL DEFAULT '',
    text_en     text NOT NULL DEFAULT '',
    window_from smallint NOT NULL,  -- minutes after midnight, Africa/Douala
    window_to   smallint NOT NULL,
    rate        real NOT NULL DEFAULT 0,
    state       text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'running', 'paused', 'done', 'canceled')),
    made_by     text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL,
    started     timestamptz,
    finished    timestamptz
);
CREATE INDEX campaigns_owner ON campaigns (owner, id);
CREATE TABLE campaign_numbers (
    campaign_id bigint NOT NULL REFERENCES campaigns ON DELETE CASCADE,
    phone       text NOT NULL,
    n           integer NOT NULL,
    message_id  bigint,
    skipped     text NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, phone)
);
CREATE INDEX campaign_numbers_waiting ON campaign_numbers (campaign_id, n) WHERE message_id IS NULL AND skipped = '';
ALTER TABLE outbox ADD COLUMN campaign bigint;
CREATE INDEX outbox_campaign ON outbox (campaign) WHERE campaign IS NOT NULL;

-- +goose Down
DROP INDEX outbox_campaign;
ALTER TABLE outbox DROP COLUMN campaign;
DROP TABLE campaign_numbers, campaigns;
