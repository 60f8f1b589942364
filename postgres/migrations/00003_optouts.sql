-- Citizens who sent STOP: they get no more notifications until they send
-- START, which deletes their row. The dispatcher looks a phone up before
-- each send.

-- +goose Up
CREATE TABLE optouts (
    phone text PRIMARY KEY, -- E.164
    at    timestamptz NOT NULL -- when the STOP was recorded
);
-- A phone's upcoming bookings, for replies to inbound SMS.
CREATE INDEX bookings_phone ON bookings (phone, start) WHERE cancelled IS NULL;

-- +goose Down
DROP INDEX bookings_phone;
DROP TABLE optouts;
