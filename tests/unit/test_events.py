import uuid
from decimal import Decimal

from chalicelib.domain.events import BookingEvent, EventType, released_and_ended


def test_envelope_carries_the_documented_fields():
    session_id, reservation_id, seat = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    event = BookingEvent(EventType.SALE_CONFIRMED, session_id, reservation_id, (seat,), "alice", amount=Decimal("50"))
    envelope = event.envelope()
    assert envelope["type"] == "sale.confirmed"
    assert envelope["version"] == 1
    assert envelope["sessionId"] == str(session_id)
    assert envelope["reservationId"] == str(reservation_id)
    assert envelope["seatIds"] == [str(seat)]
    assert envelope["userId"] == "alice"
    assert envelope["amount"] == "50.00"
    assert envelope["occurredAt"].endswith("Z")
    assert uuid.UUID(envelope["eventId"]) == event.event_id
    assert event.key == str(session_id)


def test_amount_only_where_it_applies():
    event = BookingEvent(EventType.RESERVATION_CREATED, uuid.uuid4(), uuid.uuid4(), (uuid.uuid4(),), "bob")
    assert "amount" not in event.envelope()


def test_a_hold_ending_is_announced_with_a_seat_release():
    events = released_and_ended(EventType.RESERVATION_EXPIRED, uuid.uuid4(), uuid.uuid4(), [uuid.uuid4()], "carol")
    assert [e.type for e in events] == [EventType.RESERVATION_EXPIRED, EventType.SEAT_RELEASED]
    assert len({e.event_id for e in events}) == 2
