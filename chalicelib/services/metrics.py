"""Read side of the consumers' projections: sales metrics and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from chalicelib.domain.errors import NotFound
from chalicelib.domain.money import to_money

if TYPE_CHECKING:
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.projections_repository import ProjectionsRepository
    from chalicelib.adapters.sessions_repository import SessionsRepository

TOP_SESSIONS = 5


@dataclass
class Counters:
    reservations_created: int = 0
    seats_reserved: int = 0
    reservations_cancelled: int = 0
    reservations_expired: int = 0
    seats_released: int = 0
    sales: int = 0
    seats_sold: int = 0
    revenue: Decimal = field(default_factory=lambda: Decimal("0"))

    @classmethod
    def of(cls, row: dict[str, Any]) -> Self:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def __add__(self, other: Counters) -> Counters:
        """The sum of two counters, whatever else either one describes (a day, a session)."""
        return Counters(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(Counters)})

    @property
    def conversion_rate(self) -> Decimal:
        """Share of reservations that became sales, as a percentage."""
        if not self.reservations_created:
            return Decimal("0.00")
        return to_money(Decimal(self.sales) * 100 / Decimal(self.reservations_created))


@dataclass(kw_only=True)
class DailyCounters(Counters):
    day: date


@dataclass(kw_only=True)
class SessionTotals(Counters):
    session_id: UUID
    movie_name: str | None


@dataclass(frozen=True)
class SessionMetrics:
    session_id: UUID
    lifetime: Counters
    daily: list[DailyCounters]


@dataclass(frozen=True)
class AllMetrics:
    totals: Counters
    sessions: list[SessionTotals]
    top_sessions: list[SessionTotals]


@dataclass(frozen=True)
class AuditEvent:
    event_id: UUID
    type: str
    occurred_at: datetime
    recorded_at: datetime
    event: dict[str, Any]


class MetricsService:
    def __init__(self, db: Database, projections: ProjectionsRepository, sessions: SessionsRepository) -> None:
        self._db = db
        self._projections = projections
        self._sessions = sessions

    def for_session(self, session_id: UUID) -> SessionMetrics:
        with self._db.transaction() as cur:
            rows = self._projections.session_metrics(cur, session_id)
            if not rows and self._sessions.get(cur, session_id) is None:
                raise NotFound(f"session {session_id} not found")
        daily = [DailyCounters.of(row) for row in rows]
        lifetime = sum(daily, Counters())
        return SessionMetrics(session_id, lifetime, daily)

    def overall(self) -> AllMetrics:
        with self._db.transaction() as cur:
            rows = self._projections.lifetime_by_session(cur)
        sessions = [SessionTotals.of(row) for row in rows]
        totals = sum(sessions, Counters())
        top = [s for s in sessions if s.seats_sold > 0][:TOP_SESSIONS]
        return AllMetrics(totals, sessions, top)

    def audit_of_reservation(self, reservation_id: UUID, owner: str | None = None) -> list[AuditEvent]:
        """The audit trail of a reservation ``owner`` made (any reservation when None). One that
        is not there, or not theirs, is NotFound, as everywhere else."""
        with self._db.transaction() as cur:
            events = self._projections.audit_of_reservation(cur, reservation_id, owner)
        if events is None:
            raise NotFound(f"reservation {reservation_id} not found")
        return [AuditEvent(**event) for event in events]
