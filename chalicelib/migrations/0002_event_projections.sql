-- Read models built by the Kafka consumers (metrics projection and audit trail).
-- depends: 0001_booking_schema

-- Each consumer records the events it applied in the same transaction as its work, so a
-- redelivered event is recognised and skipped.
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE session_metrics_daily (
    session_id            uuid          NOT NULL,
    day                   date          NOT NULL,
    reservations_created  integer       NOT NULL DEFAULT 0,
    seats_reserved        integer       NOT NULL DEFAULT 0,
    reservations_cancelled integer      NOT NULL DEFAULT 0,
    reservations_expired  integer       NOT NULL DEFAULT 0,
    seats_released        integer       NOT NULL DEFAULT 0,
    sales                 integer       NOT NULL DEFAULT 0,
    seats_sold            integer       NOT NULL DEFAULT 0,
    revenue               numeric(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, day)
);

CREATE TABLE audit_events (
    event_id       uuid        PRIMARY KEY,
    event_type     text        NOT NULL,
    session_id     uuid        NOT NULL,
    reservation_id uuid        NOT NULL,
    user_id        text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    kafka_topic    text        NOT NULL,
    kafka_partition integer    NOT NULL,
    kafka_offset   bigint      NOT NULL,
    payload        jsonb       NOT NULL
);
CREATE INDEX audit_events_reservation_idx ON audit_events (reservation_id, occurred_at);

CREATE INDEX outbox_unpublished_by_key_idx ON outbox (message_key, id)
    WHERE published_at IS NULL AND dead_at IS NULL;
