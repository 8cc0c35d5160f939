"""Use cases for movie sessions: create, list, read, change, delete, and seat maps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from chalicelib.domain.errors import Conflict, InvalidRequest, NotFound
from chalicelib.domain.seating import MAX_SEATS, MIN_SEATS, seat_numbers

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.sessions_repository import SessionsRepository
    from chalicelib.domain.models import MovieSession, Seat


@dataclass(frozen=True, slots=True)
class NewSession:
    movie_name: str
    room_number: str
    start_time: datetime
    end_time: datetime
    ticket_price: Decimal
    total_seats: int


@dataclass(frozen=True, slots=True)
class SessionChanges:
    movie_name: str | None = None
    room_number: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    ticket_price: Decimal | None = None
    total_seats: int | None = None


@dataclass(frozen=True, slots=True)
class ProgrammeQuery:
    limit: int = 100
    offset: int = 0
    ends_after: datetime | None = None
    starts_before: datetime | None = None
    movie: str | None = None


@dataclass(frozen=True, slots=True)
class ProgrammePage:
    sessions: list[MovieSession]
    total: int


@dataclass(frozen=True, slots=True)
class SeatMap:
    seats: list[Seat]
    version: str  # changes whenever any seat's effective status or data does


def _check_seat_count(total_seats: int) -> None:
    if not MIN_SEATS <= total_seats <= MAX_SEATS:
        raise InvalidRequest(f"totalSeats must be between {MIN_SEATS} and {MAX_SEATS}")


def _check_times(start_time: datetime, end_time: datetime) -> None:
    if start_time >= end_time:
        raise InvalidRequest("startTime must be before endTime")


class SessionService:
    def __init__(self, db: Database, sessions: SessionsRepository, seats_per_row: int) -> None:
        self._db = db
        self._sessions = sessions
        self._seats_per_row = seats_per_row

    def create(self, new: NewSession) -> MovieSession:
        _check_seat_count(new.total_seats)
        _check_times(new.start_time, new.end_time)
        with self._db.transaction() as cur:
            session_id = self._sessions.insert(
                cur,
                movie_name=new.movie_name,
                room_number=new.room_number,
                start_time=new.start_time,
                end_time=new.end_time,
                ticket_price=new.ticket_price,
                seat_numbers=seat_numbers(1, new.total_seats, self._seats_per_row),
            )
            if session_id is None:
                raise InvalidRequest("startTime must be in the future")
            created = self._sessions.get(cur, session_id)
        assert created is not None
        return created

    def programme(self, query: ProgrammeQuery) -> ProgrammePage:
        """Sessions that have not ended by ``query.ends_after`` (default: now, by the database
        clock), in start order; a past ``ends_after`` reaches back into history."""
        if query.ends_after and query.starts_before and query.ends_after >= query.starts_before:
            raise InvalidRequest("from must be before to")
        with self._db.transaction() as cur:
            sessions, total = self._sessions.page(
                cur,
                limit=query.limit,
                offset=query.offset,
                ends_after=query.ends_after,
                starts_before=query.starts_before,
                movie=query.movie,
            )
        return ProgrammePage(sessions, total)

    def get(self, session_id: UUID) -> MovieSession:
        with self._db.transaction() as cur:
            session = self._sessions.get(cur, session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        return session

    def seat_map(self, session_id: UUID) -> SeatMap:
        with self._db.transaction() as cur:
            seats, version = self._sessions.seats(cur, session_id)
            if not seats and self._sessions.get(cur, session_id) is None:
                raise NotFound(f"session {session_id} not found")
        return SeatMap(seats, version or "empty")

    def seat_map_version(self, session_id: UUID) -> str:
        """What ``seat_map(session_id).version`` is now, without reading the seats out."""
        with self._db.transaction() as cur:
            version = self._sessions.seat_map_version(cur, session_id)
            if version is None and self._sessions.get(cur, session_id) is None:
                raise NotFound(f"session {session_id} not found")
        return version or "empty"

    def seats(self, session_id: UUID) -> list[Seat]:
        return self.seat_map(session_id).seats

    def update(self, session_id: UUID, changes: SessionChanges) -> MovieSession:
        """Times, names and price may change at any time (pending holds keep the price they
        were made at). Seats may be added; they may only be removed from the end of the room
        while every removed seat is free."""
        if changes.total_seats is not None:
            _check_seat_count(changes.total_seats)
        with self._db.transaction() as cur:
            current = self._sessions.lock(cur, session_id)
            if current is None:
                raise NotFound(f"session {session_id} not found")
            _check_times(changes.start_time or current.start_time, changes.end_time or current.end_time)
            columns: dict[str, Any] = {
                column: value
                for column, value in (
                    ("movie_name", changes.movie_name),
                    ("room_number", changes.room_number),
                    ("start_time", changes.start_time),
                    ("end_time", changes.end_time),
                    ("ticket_price", changes.ticket_price),
                    ("total_seats", changes.total_seats),
                )
                if value is not None
            }
            if changes.total_seats is not None:
                self._resize(cur, current, changes.total_seats)
            if columns and not self._sessions.update(cur, session_id, columns):
                raise InvalidRequest("startTime and endTime must be in the future")
            updated = self._sessions.get(cur, session_id)
        assert updated is not None
        return updated

    def _resize(self, cur: Any, current: MovieSession, total_seats: int) -> None:
        if total_seats > current.total_seats:
            self._sessions.add_seats(
                cur,
                current.id,
                seat_numbers(current.total_seats + 1, total_seats, self._seats_per_row),
                first_position=current.total_seats + 1,
            )
        elif total_seats < current.total_seats:
            beyond, removed = self._sessions.remove_free_seats_after(cur, current.id, total_seats)
            if removed != beyond:
                raise Conflict(
                    f"cannot shrink to {total_seats} seats: {beyond - removed} of the seats that would be "
                    "removed are sold or held"
                )

    def delete(self, session_id: UUID) -> None:
        with self._db.transaction() as cur:
            if self._sessions.lock(cur, session_id) is None:
                raise NotFound(f"session {session_id} not found")
            if self._sessions.has_sales_or_live_holds(cur, session_id):
                raise Conflict("session has sales or live reservations and cannot be deleted")
            self._sessions.delete(cur, session_id)
