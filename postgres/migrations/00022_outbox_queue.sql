-- The queue's state in a table of its own: a message waiting to be sent
-- (pending, or claimed by a sender) has a row here, from its enqueue to
-- its final outcome, which deletes it. The message's own row is then
-- updated in place (heap-only) by its claim, its outcome and its receipt:
-- a sent message left the queue's partial indexes on the outbox, which
-- made its outcome write a new entry in every index of the table (9.1 µs
-- and 3.1 WAL records a row against 4.4 and 1.0, docs/BENCHMARKS.md), on
-- the commit every submit's place in the window waits for. The claim and
-- its order probes read this table alone, narrow, by its own indexes.

-- +goose Up
CREATE TABLE outbox_queue (
    id          bigint PRIMARY KEY, -- the message's
    phone       text NOT NULL,
    bulk        boolean NOT NULL DEFAULT false,
    created     timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending')),
    not_before  timestamptz, -- while pending: not claimed before it
    lease_until timestamptz, -- while sending: when a crashed sender's claim ends
    attempts    integer NOT NULL DEFAULT 0
) WITH (fillfactor = 50);
INSERT INTO outbox_queue (id, phone, bulk, created, status, not_before, lease_until, attempts)
    SELECT id, phone, bulk, created, status, not_before, lease_until, attempts FROM outbox WHERE queued;
CREATE INDEX outbox_queue_due ON outbox_queue (bulk, id);
CREATE INDEX outbox_queue_phone ON outbox_queue (phone, id);
DROP INDEX outbox_due, outbox_unsent;

-- +goose Down
CREATE INDEX outbox_due ON outbox (bulk, id) WHERE queued;
CREATE INDEX outbox_unsent ON outbox (phone, id) WHERE queued;
UPDATE outbox o SET status = q.status, not_before = q.not_before, lease_until = q.lease_until, attempts = q.attempts
    FROM outbox_queue q WHERE o.id = q.id;
DROP TABLE outbox_queue;
