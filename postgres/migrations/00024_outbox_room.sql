-- Room on each page for every version of a row that its life writes,
-- without pruning the ones before. A message's row is written three
-- times (enqueued, its outcome, its receipt), its queue row twice
-- (enqueued, claimed). PostgreSQL can prune a dead version only once no
-- running transaction may still see it, and under load one always may (a
-- claim of a thousand rows runs for milliseconds, beside the outcomes'
-- and receipts' commits): at fillfactor 45 and 50, 8.6% of the outbox's
-- updates and 7% of the queue's left their page in the SMS benchmark,
-- each writing an entry in every index of its table. At 30 and 40 the
-- three and the two versions fit (TestOutboxUpdatesInPlace holds an old
-- snapshot open for this); the tables take more pages, which the
-- retention's deletes give back.

-- +goose Up
ALTER TABLE outbox SET (fillfactor = 30);
ALTER TABLE outbox_queue SET (fillfactor = 40);

-- +goose Down
ALTER TABLE outbox SET (fillfactor = 45);
ALTER TABLE outbox_queue SET (fillfactor = 50);
