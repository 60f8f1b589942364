-- Messages to one number leave in the order they were written: a message
-- is claimed only with every earlier one to its number that is not final
-- (pending or sending). The claim asks that of each candidate; this index
-- answers it from the few unsent messages of the number.

-- +goose Up
CREATE INDEX outbox_unsent ON outbox (phone, id) WHERE status IN ('pending', 'sending');

-- +goose Down
DROP INDEX outbox_unsent;
