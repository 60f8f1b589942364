-- Delivery callbacks: an API key may name an HTTPS URL (and has a secret
-- to sign with: kept as is, since signing needs it); each final state of a
-- message it sent is queued here, in the statement that reaches it, and
-- POSTed from this queue with backoff for 24 hours, apart from the SMS
-- path.

-- +goose Up
ALTER TABLE api_keys
    ADD COLUMN callback_url    text NOT NULL DEFAULT '',
    ADD COLUMN callback_secret text NOT NULL DEFAULT '';
CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id     text NOT NULL,
    message_id bigint NOT NULL,
    status     text NOT NULL,   -- the message's, when it was queued
    at         timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    next_at    timestamptz NOT NULL,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX webhooks_due ON webhooks (next_at);

-- +goose Down
DROP TABLE webhooks;
ALTER TABLE api_keys DROP COLUMN callback_secret, DROP COLUMN callback_url;
