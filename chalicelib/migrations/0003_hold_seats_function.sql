-- A hold in one round trip: the held-seat cap, the claim, the reservation and its outbox row
-- in one function, called as one statement.
-- depends: 0002_event_projections

-- The held-seat cap counts one user's live holds: without this index the planner scanned
-- every pending reservation (reservations_pending_expiry_idx) for it.
CREATE INDEX reservations_pending_by_user_idx ON reservations (user_id, expires_at) WHERE status = 'pending';

-- The one way rows enter the outbox. Each inserted row comes back with the older events of
-- its key (the session) that are still unpublished (up to p_waits_limit; one more means "too
-- many"): the API's fast path may only send it after those, or Kafka would see the session's
-- events out of order. Rows inserted by the same call do not see each other.
CREATE FUNCTION outbox_insert(p_topic text, p_events jsonb, p_waits_limit integer)
RETURNS TABLE (id bigint, event_id uuid, waits_for uuid[])
LANGUAGE sql AS $$
    -- p_events: [{"eventId", "type", "key", "payload"}, ...] in the order they happened
    INSERT INTO outbox AS o (event_id, event_type, topic, message_key, payload)
    SELECT (x.e ->> 'eventId')::uuid, x.e ->> 'type', p_topic, x.e ->> 'key', x.e -> 'payload'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
    ORDER BY x.n
    RETURNING o.id, o.event_id,
        ARRAY(SELECT older.event_id FROM outbox older
              WHERE older.message_key = o.message_key AND older.published_at IS NULL AND older.dead_at IS NULL
              ORDER BY older.id LIMIT p_waits_limit)
$$;

-- Every guard of the previous statements stays, in the same order:
--   1. the user's advisory lock, then the count of the seats they hold live (a statement of its
--      own inside the function, so it sees every hold committed before the lock was granted);
--   2. the session row under KEY SHARE (the lock the reservation's foreign key takes), only
--      while it has not started by the database clock;
--   3. the requested seats locked in id order (requests for [s1, s3] and [s3, s1] queue
--      instead of deadlocking) and claimed only if every one is free by the database clock:
--      available, or reserved with a lapsed hold;
--   4. the reservation, at the session's current price, and its event through outbox_insert
--      (the caller builds the event; its ids are all known before the claim).
-- Nothing is written unless every seat is claimed. lock_timeout applies to every lock taken.
-- outcome: 'held', 'cap' (held = what the user already holds), 'no_session', 'started',
-- 'foreign_seats' or 'taken'. A hold returns one row per event written (outbox_*), any other
-- outcome one row.
CREATE FUNCTION hold_seats(
    p_reservation_id uuid,
    p_session_id uuid,
    p_seat_ids uuid[],
    p_user_id text,
    p_user_email text,
    p_ttl_seconds integer,
    p_max_held_seats integer,
    p_topic text,
    p_events jsonb,
    p_waits_limit integer
) RETURNS TABLE (
    outcome text,
    held integer,
    id uuid,
    session_id uuid,
    seat_ids uuid[],
    seat_numbers text[],
    user_id text,
    user_email text,
    unit_price numeric(10,2),
    created_at timestamptz,
    expires_at timestamptz,
    remaining_seconds integer,
    outbox_id bigint,
    outbox_event_id uuid,
    outbox_waits_for uuid[]
) LANGUAGE plpgsql AS $$
DECLARE
    v_held integer;
    v_price numeric(10,2);
    v_found integer;
    v_free integer;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('holder:' || p_user_id, 7));
    SELECT coalesce(sum(cardinality(r.seat_ids)), 0)::int INTO v_held
    FROM reservations r
    WHERE r.user_id = p_user_id AND r.status = 'pending' AND r.expires_at > now();
    IF v_held + cardinality(p_seat_ids) > p_max_held_seats THEN
        RETURN QUERY SELECT 'cap'::text, v_held, NULL::uuid, NULL::uuid, NULL::uuid[], NULL::text[], NULL::text,
                            NULL::text, NULL::numeric(10,2), NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bigint, NULL::uuid, NULL::uuid[];
        RETURN;
    END IF;

    SELECT s.ticket_price INTO v_price
    FROM movie_sessions s WHERE s.id = p_session_id AND s.start_time > now()
    FOR KEY SHARE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT
            CASE
                WHEN NOT EXISTS (SELECT 1 FROM movie_sessions s WHERE s.id = p_session_id) THEN 'no_session'
                WHEN (SELECT count(*) FROM seats st WHERE st.session_id = p_session_id AND st.id = ANY(p_seat_ids))
                     <> cardinality(p_seat_ids) THEN 'foreign_seats'
                ELSE 'started'
            END,
            v_held, NULL::uuid, NULL::uuid, NULL::uuid[], NULL::text[], NULL::text,
            NULL::text, NULL::numeric(10,2), NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bigint, NULL::uuid, NULL::uuid[];
        RETURN;
    END IF;

    SELECT count(*)::int,
           count(*) FILTER (WHERE locked.status = 'available'
                                OR (locked.status = 'reserved' AND locked.held_until <= now()))::int
    INTO v_found, v_free
    FROM (
        SELECT st.status, st.held_until FROM seats st
        WHERE st.session_id = p_session_id AND st.id = ANY(p_seat_ids)
        ORDER BY st.id
        FOR UPDATE
    ) locked;
    IF v_found <> cardinality(p_seat_ids) OR v_free <> v_found THEN
        RETURN QUERY SELECT CASE WHEN v_found <> cardinality(p_seat_ids) THEN 'foreign_seats' ELSE 'taken' END,
                            v_held, NULL::uuid, NULL::uuid, NULL::uuid[], NULL::text[], NULL::text,
                            NULL::text, NULL::numeric(10,2), NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bigint, NULL::uuid, NULL::uuid[];
        RETURN;
    END IF;

    RETURN QUERY
    WITH claimed AS (
        UPDATE seats st
        SET status = 'reserved', reservation_id = p_reservation_id,
            held_until = now() + make_interval(secs => p_ttl_seconds), updated_at = now()
        WHERE st.id = ANY(p_seat_ids)
        RETURNING st.id, st.seat_number, st.position
    ), inserted AS (
        INSERT INTO reservations AS r
            (id, session_id, user_id, user_email, seat_ids, seat_numbers, unit_price, expires_at)
        SELECT p_reservation_id, p_session_id, p_user_id, p_user_email,
               array_agg(c.id ORDER BY c.position), array_agg(c.seat_number ORDER BY c.position),
               v_price, now() + make_interval(secs => p_ttl_seconds)
        FROM claimed c
        RETURNING r.id, r.session_id, r.seat_ids, r.seat_numbers, r.user_id, r.user_email, r.unit_price,
                  r.created_at, r.expires_at
    )
    SELECT 'held'::text, v_held, i.id, i.session_id, i.seat_ids, i.seat_numbers, i.user_id, i.user_email,
           i.unit_price, i.created_at, i.expires_at,
           GREATEST(0, ceil(extract(epoch FROM i.expires_at - now())))::int,
           o.id, o.event_id, o.waits_for
    FROM inserted i,
         LATERAL outbox_insert(p_topic, p_events, p_waits_limit) o
    ORDER BY o.id;
END;
$$;
