-- Booking schema: PostgreSQL is the source of truth for seats, reservations and sales.
-- depends:

CREATE TABLE movie_sessions (
    id            uuid PRIMARY KEY,
    movie_name    text          NOT NULL CHECK (length(movie_name) BETWEEN 1 AND 255),
    room_number   text          NOT NULL CHECK (length(room_number) BETWEEN 1 AND 50),
    start_time    timestamptz   NOT NULL,
    end_time      timestamptz   NOT NULL,
    ticket_price  numeric(10,2) NOT NULL CHECK (ticket_price > 0),
    total_seats   integer       NOT NULL CHECK (total_seats BETWEEN 16 AND 500),
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CHECK (start_time < end_time)
);
CREATE INDEX movie_sessions_start_time_idx ON movie_sessions (start_time);

-- A hold is valid only while held_until > now(): every read and every claim applies that
-- test, so a lapsed hold is free at its exact expiry time, before any sweeper runs.
CREATE TABLE reservations (
    id            uuid PRIMARY KEY,
    session_id    uuid          NOT NULL REFERENCES movie_sessions (id) ON DELETE RESTRICT,
    user_id       text          NOT NULL,
    user_email    text          NOT NULL,
    seat_ids      uuid[]        NOT NULL CHECK (cardinality(seat_ids) >= 1),
    seat_numbers  text[]        NOT NULL,
    unit_price    numeric(10,2) NOT NULL CHECK (unit_price > 0),
    status        text          NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
    created_at    timestamptz   NOT NULL DEFAULT now(),
    expires_at    timestamptz   NOT NULL,
    updated_at    timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX reservations_session_idx ON reservations (session_id);
CREATE INDEX reservations_user_idx ON reservations (user_id);
CREATE INDEX reservations_pending_expiry_idx ON reservations (expires_at) WHERE status = 'pending';

CREATE TABLE seats (
    id             uuid PRIMARY KEY,
    session_id     uuid        NOT NULL REFERENCES movie_sessions (id) ON DELETE CASCADE,
    seat_number    text        NOT NULL,
    position       integer     NOT NULL CHECK (position >= 1),
    status         text        NOT NULL DEFAULT 'available'
                   CHECK (status IN ('available', 'reserved', 'sold')),
    -- deferred: a hold claims its seats first and inserts its reservation after, in one
    -- transaction, so a partial claim can roll back before anything is written
    reservation_id uuid        REFERENCES reservations (id) DEFERRABLE INITIALLY DEFERRED,
    held_until     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, seat_number),
    UNIQUE (session_id, position),
    -- a reserved seat always names its reservation and its deadline; other seats never do
    CHECK ((status = 'reserved') = (held_until IS NOT NULL)),
    CHECK (status = 'available' OR reservation_id IS NOT NULL)
);
CREATE INDEX seats_reservation_idx ON seats (reservation_id) WHERE reservation_id IS NOT NULL;

CREATE TABLE sales (
    id             uuid PRIMARY KEY,
    reservation_id uuid          NOT NULL UNIQUE REFERENCES reservations (id) ON DELETE RESTRICT,
    session_id     uuid          NOT NULL REFERENCES movie_sessions (id) ON DELETE RESTRICT,
    user_id        text          NOT NULL,
    user_email     text          NOT NULL,
    amount         numeric(12,2) NOT NULL CHECK (amount > 0),
    created_at     timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX sales_user_idx ON sales (user_id, created_at DESC);

-- The last line of defence: a seat can be in at most one sale, ever.
CREATE TABLE sale_seats (
    sale_id     uuid NOT NULL REFERENCES sales (id) ON DELETE RESTRICT,
    seat_id     uuid NOT NULL UNIQUE,
    seat_number text NOT NULL,
    position    integer NOT NULL,
    PRIMARY KEY (sale_id, seat_id)
);

-- Transactional outbox: written in the same transaction as the change it describes.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    topic           text        NOT NULL,
    message_key     text        NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    dead_at         timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (next_attempt_at, id)
    WHERE published_at IS NULL AND dead_at IS NULL;
