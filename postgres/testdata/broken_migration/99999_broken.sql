-- A migration that fails half-way: it creates, alters and inserts, then
-- calls a function that does not exist. Running in one transaction, it
-- must leave nothing of what it did (TestMigrateFailureChangesNothing).

-- +goose Up
CREATE TABLE half_done (id integer PRIMARY KEY);
ALTER TABLE cases ADD COLUMN half_done text;
CREATE INDEX cases_half_done ON cases (half_done);
INSERT INTO offices (id, name) VALUES ('half-done', 'Half done');
SELECT no_such_function();

-- +goose Down
DROP TABLE half_done;
ALTER TABLE cases DROP COLUMN half_done;
DELETE FROM offices WHERE id = 'half-done';
