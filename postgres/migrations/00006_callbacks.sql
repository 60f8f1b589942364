-- The hotline console's callback queue: the operator who took a request
-- and when, and who closed it; and the outbox by creation time, for the
-- dashboard's delivery counts.

-- +goose Up
ALTER TABLE callbacks
    ADD COLUMN taken_by  text NOT NULL DEFAULT '', -- '' until an operator takes it
    ADD COLUMN taken     timestamptz,
    ADD COLUMN closed_by text NOT NULL DEFAULT '';
-- The queue, oldest first; the latest closed requests; a phone's requests.
CREATE INDEX callbacks_queue ON callbacks (requested, id) WHERE closed IS NULL;
CREATE INDEX callbacks_closed ON callbacks (closed DESC, id DESC) WHERE closed IS NOT NULL;
CREATE INDEX callbacks_phone ON callbacks (phone, requested DESC, id DESC);
CREATE INDEX outbox_created ON outbox (created);

-- +goose Down
DROP INDEX outbox_created, callbacks_phone, callbacks_closed, callbacks_queue;
ALTER TABLE callbacks DROP COLUMN closed_by, DROP COLUMN taken, DROP COLUMN taken_by;
