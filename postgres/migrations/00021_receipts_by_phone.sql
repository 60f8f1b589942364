-- Receipts find their message through the number's index (outbox_phone:
-- a number has a few messages, compared by bind and SMSC id), not an
-- index of their own: outbox_receipts took a new entry at every sent
-- outcome, the one update of a message's row that is not heap-only, and
-- cost PostgreSQL about 4 µs of its 23 a message's outcome
-- (BenchmarkOutboxCycle, alternated runs; docs/BENCHMARKS.md).

-- +goose Up
DROP INDEX outbox_receipts;

-- +goose Down
CREATE INDEX outbox_receipts ON outbox (bind, phone) WHERE smsc_id <> '';
