-- Delivery of the outbox's messages over SMPP: the bind and the SMSC's
-- message id of a sent message (to match its delivery receipt), when it was
-- sent, the time before which a deferred message is not claimed again, and
-- the final states that receipts and the validity bring.

-- +goose Up
ALTER TABLE outbox
    ADD COLUMN bind       text NOT NULL DEFAULT '',
    ADD COLUMN smsc_id    text NOT NULL DEFAULT '', -- as the SMSC answered submit_sm
    ADD COLUMN sent       timestamptz,
    ADD COLUMN not_before timestamptz; -- while pending: not claimed before it
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'logged', 'delivered', 'undeliverable', 'expired'));
-- Receipts are matched on the bind and the destination, then on the id.
CREATE INDEX outbox_receipts ON outbox (bind, phone) WHERE smsc_id <> '';

-- +goose Down
DROP INDEX outbox_receipts;
UPDATE outbox SET status = 'sent' WHERE status IN ('delivered', 'undeliverable');
UPDATE outbox SET status = 'failed' WHERE status = 'expired';
ALTER TABLE outbox DROP CONSTRAINT outbox_status_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'logged'));
ALTER TABLE outbox DROP COLUMN not_before, DROP COLUMN sent, DROP COLUMN smsc_id, DROP COLUMN bind;
