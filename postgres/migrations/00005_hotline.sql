-- The hotline console: its accounts, their signed-in browsers (by the
-- SHA-256 of their cookie's token only), the audit log of what they saw
-- and changed, and how USSD sessions ended, for the caller page and the
-- dashboard. Nothing here deletes from the audit log: it only grows.

-- +goose Up
CREATE TABLE console_users (
    name         text COLLATE "C" PRIMARY KEY,
    full_name    text NOT NULL DEFAULT '',
    role         text NOT NULL,
    lang         text NOT NULL DEFAULT '',
    hash         bytea NOT NULL, -- bcrypt
    failures     integer NOT NULL DEFAULT 0 CHECK (failures >= 0), -- since the last sign-in
    locked_until timestamptz, -- NULL: never locked since the last sign-in
    must_change  boolean NOT NULL DEFAULT false,
    created      timestamptz NOT NULL
);

-- Expired sessions are deleted as new ones are created.
CREATE TABLE console_sessions (
    token_hash text COLLATE "C" PRIMARY KEY, -- hex SHA-256 of the cookie's token
    username   text COLLATE "C" NOT NULL REFERENCES console_users (name) ON DELETE CASCADE,
    csrf       text NOT NULL,
    created    timestamptz NOT NULL,
    expires    timestamptz NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires);
CREATE INDEX console_sessions_username ON console_sessions (username);

-- Read newest first, for a subject (a phone or a reference) or a user.
CREATE TABLE audit_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL,
    username text COLLATE "C" NOT NULL,
    action   text NOT NULL,
    subject  text COLLATE "C" NOT NULL DEFAULT '',
    detail   text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_subject ON audit_log (subject, id);
CREATE INDEX audit_log_username ON audit_log (username, id);

-- One row per ended session; id orders those that ended at once.
CREATE TABLE ussd_sessions (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL, -- when it ended
    phone    text COLLATE "C" NOT NULL, -- E.164
    operator text COLLATE "C" NOT NULL DEFAULT '',
    service  text COLLATE "C" NOT NULL DEFAULT '',
    node     text COLLATE "C" NOT NULL DEFAULT '',
    result   text COLLATE "C" NOT NULL DEFAULT '',
    hops     integer NOT NULL DEFAULT 0,
    duration interval NOT NULL DEFAULT '0'
);
CREATE INDEX ussd_sessions_phone ON ussd_sessions (phone, at, id);
CREATE INDEX ussd_sessions_at ON ussd_sessions (at);

-- +goose Down
DROP TABLE ussd_sessions, audit_log, console_sessions, console_users;
