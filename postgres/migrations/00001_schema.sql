-- The case store: offices and their visit slots, cases and their history,
-- hotline callbacks, the SMS outbox, API keys and remembered results.
-- Each migration runs in one transaction: a failing one changes nothing.

-- +goose Up
CREATE TABLE offices (
    id       text COLLATE "C" PRIMARY KEY,
    name     text COLLATE "C" NOT NULL,
    services text[] NOT NULL DEFAULT '{}', -- the services it handles; none means all
    capacity integer NOT NULL DEFAULT 0 CHECK (capacity >= 0) -- 0: the gathering limit
);

-- Cases and bookings draw their references from one serial, as the memory
-- store does: reference = serial and a Damm check digit, made by the code.
CREATE SEQUENCE serials START WITH 2000001;

CREATE TABLE cases (
    ref     text COLLATE "C" PRIMARY KEY,
    service text NOT NULL,
    status  text NOT NULL,
    phone   text NOT NULL,
    lang    text NOT NULL DEFAULT '',
    channel text NOT NULL DEFAULT '',
    data    jsonb, -- what the applicant gave
    opened  timestamptz NOT NULL,
    updated timestamptz NOT NULL
);
CREATE INDEX cases_phone ON cases (phone, ref);
CREATE INDEX cases_service ON cases (service, status, ref);

CREATE TABLE case_events (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref     text COLLATE "C" NOT NULL REFERENCES cases (ref),
    status  text NOT NULL,
    at      timestamptz NOT NULL,
    channel text NOT NULL DEFAULT '',
    who     text NOT NULL DEFAULT '',
    note    text NOT NULL DEFAULT ''
);
CREATE INDEX case_events_ref ON case_events (ref, id);

-- One row per slot that has ever been booked: taken counts its live
-- bookings, and a booking takes a place with
--   UPDATE slots SET taken = taken + 1 WHERE ... AND taken < capacity
-- so that the row's lock, not a count, holds the capacity.
CREATE TABLE slots (
    office text COLLATE "C" NOT NULL REFERENCES offices (id),
    start  timestamptz NOT NULL,
    taken  integer NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= 50), -- no gathering over 50 people
    PRIMARY KEY (office, start)
);

CREATE TABLE bookings (
    ref       text COLLATE "C" PRIMARY KEY,
    office    text COLLATE "C" NOT NULL,
    start     timestamptz NOT NULL,
    service   text NOT NULL,
    phone     text NOT NULL,
    lang      text NOT NULL DEFAULT '',
    channel   text NOT NULL DEFAULT '',
    booked    timestamptz NOT NULL,
    cancelled timestamptz,
    -- holding marks a phone's live booking for a service until its slot
    -- starts (a new booking releases a started one first): one at most.
    holding   boolean NOT NULL DEFAULT true,
    reminded  boolean NOT NULL DEFAULT false,
    FOREIGN KEY (office, start) REFERENCES slots (office, start)
);
CREATE UNIQUE INDEX bookings_holding ON bookings (phone, service) WHERE holding;
CREATE INDEX bookings_due ON bookings (start) WHERE cancelled IS NULL AND NOT reminded;
CREATE INDEX bookings_slot ON bookings (office, start);

-- Callback tickets: five digits from a serial that wraps around, and a
-- check digit; a ticket is unique among open requests only.
CREATE SEQUENCE tickets MINVALUE 0 MAXVALUE 89999 START WITH 0 CYCLE;

CREATE TABLE callbacks (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket    text NOT NULL,
    phone     text NOT NULL,
    reason    text NOT NULL DEFAULT '',
    lang      text NOT NULL DEFAULT '',
    channel   text NOT NULL DEFAULT '',
    requested timestamptz NOT NULL,
    closed    timestamptz
);
CREATE UNIQUE INDEX callbacks_open_phone ON callbacks (phone) WHERE closed IS NULL;
CREATE UNIQUE INDEX callbacks_open_ticket ON callbacks (ticket) WHERE closed IS NULL;

-- The SMS outbox, written in the transaction of the change that causes a
-- message and drained by senders with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone       text NOT NULL,
    lang        text NOT NULL DEFAULT '',
    body        text NOT NULL,
    kind        text NOT NULL DEFAULT '',
    case_ref    text NOT NULL DEFAULT '',
    created     timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'logged')),
    lease_until timestamptz, -- while sending: when a crashed sender's claim ends
    attempts    integer NOT NULL DEFAULT 0,
    reason      text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_phone ON outbox (phone, created DESC, id DESC);

-- API keys of the administrations, by their SHA-256 hash only.
CREATE TABLE api_keys (
    hash    bytea PRIMARY KEY CHECK (length(hash) = 32),
    owner   text NOT NULL,
    label   text NOT NULL DEFAULT '',
    created timestamptz NOT NULL DEFAULT now()
);

-- Results that Once remembers, so that a retried operation is not done
-- twice.
CREATE TABLE once_results (
    op     text NOT NULL,
    key    text NOT NULL,
    result jsonb NOT NULL,
    at     timestamptz NOT NULL,
    PRIMARY KEY (op, key)
);
CREATE INDEX once_results_at ON once_results (at);

-- +goose Down
DROP TABLE once_results, api_keys, outbox, callbacks, bookings, slots, case_events, cases, offices;
DROP SEQUENCE tickets, serials;
