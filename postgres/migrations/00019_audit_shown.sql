-- An audit entry names every subject it is about: the numbers a list
-- showed (the callback queue, a page of the ministries' API), the phone
-- of a case viewed by its reference. One entry a view, found by a search
-- for any of them (shown @> ARRAY[number], on the GIN index), however
-- many numbers it showed.

-- +goose Up
ALTER TABLE audit_log ADD COLUMN shown text[] NOT NULL DEFAULT '{}';
CREATE INDEX audit_log_shown ON audit_log USING gin (shown);

-- +goose Down
DROP INDEX audit_log_shown;
ALTER TABLE audit_log DROP COLUMN shown;
