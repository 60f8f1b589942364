-- Messages the administrations send through the API (their owner, the key
-- that sent them, so that they read them back and hear of their final
-- states, and when), and bulk ones (a list, a campaign), which leave after every
-- transactional message due: the queue's index is by (bulk, id).

-- +goose Up
ALTER TABLE outbox
    ADD COLUMN bulk   boolean NOT NULL DEFAULT false,
    ADD COLUMN owner  text NOT NULL DEFAULT '',
    ADD COLUMN key_id text NOT NULL DEFAULT '',
    ADD COLUMN done   timestamptz; -- when it reached a final status
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (bulk, id) WHERE queued;
CREATE INDEX outbox_owner ON outbox (owner, id) WHERE owner <> '';

-- +goose Down
DROP INDEX outbox_owner, outbox_due;
CREATE INDEX outbox_due ON outbox (id) WHERE queued;
ALTER TABLE outbox DROP COLUMN done, DROP COLUMN key_id, DROP COLUMN owner, DROP COLUMN bulk;
