-- Sign-in failures slow the next attempts down instead of locking an
-- account: failures in a row per key (an account's name, known or not;
-- an address), the fleet's, forgotten some time after the latest. A
-- one-time password expires; a browser session ends when unused for the
-- console's idle timeout.

-- +goose Up
CREATE TABLE console_throttle (
    key      text COLLATE "C" PRIMARY KEY, -- "name:awa", "addr:203.0.113.9"
    failures integer NOT NULL CHECK (failures > 0), -- in a row
    last     timestamptz NOT NULL, -- the latest failure
    until    timestamptz NOT NULL, -- no attempt before
    forget   timestamptz NOT NULL, -- the failures are forgotten then
    noticed  timestamptz -- when they were last written to the audit log
);
CREATE INDEX console_throttle_forget ON console_throttle (forget);

ALTER TABLE console_users DROP COLUMN failures, DROP COLUMN locked_until,
    ADD COLUMN password_expires timestamptz; -- NULL: never
-- A one-time password made before this migration (the first
-- administrator's went to the log) lasts a day from its making, as new
-- ones do: an older one must be given again (guichet users password).
UPDATE console_users SET password_expires = created + interval '24 hours' WHERE must_change;

ALTER TABLE console_sessions ADD COLUMN last_seen timestamptz;
UPDATE console_sessions SET last_seen = created;
ALTER TABLE console_sessions ALTER COLUMN last_seen SET NOT NULL;

-- +goose Down
ALTER TABLE console_sessions DROP COLUMN last_seen;
ALTER TABLE console_users DROP COLUMN password_expires,
    ADD COLUMN failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    ADD COLUMN locked_until timestamptz;
DROP TABLE console_throttle;
