-- A citizen's data kept for good and for no longer than needed: the
-- language each caller chose (USSD, or the SMS keywords FR/EN), which the
-- session store only caches; when a case's personal fields were
-- pseudonymised (retention or erasure), so that the purge passes each
-- once; and how far each purge has gone where its rows carry no mark of
-- their own.

-- +goose Up
CREATE TABLE languages (
    phone text COLLATE "C" PRIMARY KEY, -- E.164
    lang  text NOT NULL CHECK (lang <> ''),
    at    timestamptz NOT NULL -- when it was chosen
);
ALTER TABLE cases ADD COLUMN erased timestamptz;
CREATE INDEX cases_unerased ON cases (service, updated) WHERE erased IS NULL;
-- Every booking of a number, cancelled ones too (bookings_phone holds the
-- live ones): what an export or an erasure reads.
CREATE INDEX bookings_citizen ON bookings (phone);
CREATE TABLE retention_marks (
    kind text PRIMARY KEY,
    mark timestamptz NOT NULL -- everything older was purged
);

-- +goose Down
DROP TABLE retention_marks;
DROP INDEX bookings_citizen;
DROP INDEX cases_unerased;
ALTER TABLE cases DROP COLUMN erased;
DROP TABLE languages;
