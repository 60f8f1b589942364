-- The outbox's numbers compare as bytes (COLLATE "C"), as the cases' refs
-- and the offices' ids already do: the claim's order probes and the
-- receipts find a number's messages through an index on it, whose every
-- comparison otherwise went through the database's locale (strcoll, and a
-- lookup of the collation a comparison; C.UTF-8 on this machine, costlier
-- in en_US.UTF-8). A claim 19.5-22 -> 16.5-18 µs a message in
-- BenchmarkOutboxCycle (three alternated pairs), PostgreSQL's share of a
-- message 101-110 -> 97-100. A number is '+' and digits: its order is the
-- same. The tables are not rewritten, their indexes on phone are rebuilt,
-- under the table's lock: about 9 s for 2 million messages, during which
-- nothing is claimed or recorded (docs/OPERATIONS.md, Upgrade).

-- +goose Up
ALTER TABLE outbox ALTER COLUMN phone TYPE text COLLATE "C";
ALTER TABLE outbox_queue ALTER COLUMN phone TYPE text COLLATE "C";

-- +goose Down
ALTER TABLE outbox ALTER COLUMN phone TYPE text COLLATE "default";
ALTER TABLE outbox_queue ALTER COLUMN phone TYPE text COLLATE "default";
