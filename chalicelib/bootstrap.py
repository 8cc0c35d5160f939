"""Composition root: builds every adapter and service once per process, lazily.

Importing this module makes no network call and loads no driver. The first request (or
scheduled invocation) builds the pool, clients and services, and warm invocations reuse
them. Each component's module is imported where it is built, so a function only loads the
libraries it uses (the sweeper never loads PyJWT, the API never loads yoyo) and the cold
import of the handler module stays small.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.config import Settings, get_settings

if TYPE_CHECKING:
    from chalicelib.adapters.admission import Gatekeeper
    from chalicelib.adapters.database import Database
    from chalicelib.adapters.kafka_publisher import EventPublisher
    from chalicelib.adapters.outbox_repository import OutboxRepository
    from chalicelib.adapters.projections_repository import ProjectionsRepository
    from chalicelib.adapters.redis_client import FailFastRedis
    from chalicelib.adapters.reservation_cache import ReservationCache
    from chalicelib.adapters.tokens import TokenVerifier
    from chalicelib.services.event_dispatch import EventDispatcher
    from chalicelib.services.expiry import ExpiryService
    from chalicelib.services.health import HealthService
    from chalicelib.services.idempotency import IdempotentCommands
    from chalicelib.services.metrics import MetricsService
    from chalicelib.services.outbox_relay import OutboxRelay
    from chalicelib.services.projections import EventConsumer
    from chalicelib.services.reservations import ReservationService
    from chalicelib.services.sales import SaleService
    from chalicelib.services.sessions import SessionService
    from chalicelib.services.unit_of_work import UnitOfWork


# How much sooner than the hold it guards a seat gate lapses.
GATE_MARGIN_MS = 250


@dataclass
class Container:
    settings: Settings

    @cached_property
    def db(self) -> Database:
        from chalicelib.adapters.database import Database

        return Database(
            self.settings.database_url,
            min_size=self.settings.db_pool_min_size,
            max_size=self.settings.db_pool_max_size,
            statement_timeout_ms=self.settings.statement_timeout_ms,
            lock_timeout_ms=self.settings.lock_timeout_ms,
        )

    @cached_property
    def redis(self) -> FailFastRedis:
        import redis

        from chalicelib.adapters.redis_client import FailFastRedis

        timeout = self.settings.redis_socket_timeout_seconds
        client = redis.Redis.from_url(
            self.settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        return FailFastRedis(client, self.settings.redis_retry_after_failure_seconds)

    @cached_property
    def publisher(self) -> EventPublisher:
        from chalicelib.adapters.kafka_publisher import EventPublisher

        return EventPublisher(
            self.settings.kafka_bootstrap_servers,
            publish_timeout_seconds=self.settings.kafka_publish_timeout_seconds,
            retry_after_failure_seconds=self.settings.kafka_retry_after_failure_seconds,
            linger_ms=self.settings.kafka_linger_ms,
        )

    @cached_property
    def outbox(self) -> OutboxRepository:
        from chalicelib.adapters.outbox_repository import OutboxRepository

        return OutboxRepository(self.settings.booking_topic)

    @cached_property
    def dispatcher(self) -> EventDispatcher:
        from chalicelib.services.event_dispatch import EventDispatcher

        return EventDispatcher(
            self.db, self.outbox, self.publisher, max_wait_seconds=self.settings.fast_path_max_wait_seconds
        )

    @cached_property
    def uow(self) -> UnitOfWork:
        from chalicelib.services.unit_of_work import UnitOfWork

        return UnitOfWork(self.db, self.outbox, self.dispatcher)

    @cached_property
    def gatekeeper(self) -> Gatekeeper:
        from chalicelib.adapters.admission import Gatekeeper

        # A winner's gates lapse on their own, so they must never outlive its hold: Redis would
        # then refuse a seat that PostgreSQL already sees as free.
        hold_ms = self.settings.reservation_ttl_seconds * 1000
        return Gatekeeper(
            self.redis,
            window_seconds=self.settings.rate_limit_window_seconds,
            gate_ttl_ms=min(self.settings.seat_gate_ttl_ms, hold_ms - GATE_MARGIN_MS),
        )

    @cached_property
    def reservation_cache(self) -> ReservationCache:
        from chalicelib.adapters.reservation_cache import ReservationCache

        return ReservationCache(self.redis)

    @cached_property
    def sessions(self) -> SessionService:
        from chalicelib.adapters.sessions_repository import SessionsRepository
        from chalicelib.services.sessions import SessionService

        return SessionService(self.db, SessionsRepository(), self.settings.seats_per_row)

    @cached_property
    def reservations(self) -> ReservationService:
        from chalicelib.adapters.reservations_repository import ReservationsRepository
        from chalicelib.services.reservations import ReservationService

        return ReservationService(
            self.uow,
            ReservationsRepository(),
            self.gatekeeper,
            self.reservation_cache,
            ttl_seconds=self.settings.reservation_ttl_seconds,
            max_seats_per_reservation=self.settings.max_seats_per_reservation,
            max_held_seats_per_user=self.settings.max_held_seats_per_user,
        )

    @cached_property
    def sales(self) -> SaleService:
        from chalicelib.adapters.reservations_repository import ReservationsRepository
        from chalicelib.adapters.sales_repository import SalesRepository
        from chalicelib.services.sales import SaleService

        return SaleService(self.uow, ReservationsRepository(), SalesRepository(), self.reservation_cache)

    @cached_property
    def expiry(self) -> ExpiryService:
        from chalicelib.adapters.reservations_repository import ReservationsRepository
        from chalicelib.services.expiry import ExpiryService

        return ExpiryService(self.uow, ReservationsRepository(), batch_size=self.settings.expiry_batch_size)

    @cached_property
    def relay(self) -> OutboxRelay:
        from chalicelib.services.outbox_relay import OutboxRelay

        return OutboxRelay(
            self.db,
            self.outbox,
            self.publisher,
            dead_letter_topic=self.settings.dead_letter_topic,
            batch_size=self.settings.outbox_batch_size,
            max_attempts=self.settings.outbox_max_attempts,
            grace_seconds=self.settings.outbox_relay_grace_seconds,
        )

    @cached_property
    def projections(self) -> ProjectionsRepository:
        from chalicelib.adapters.projections_repository import ProjectionsRepository

        return ProjectionsRepository()

    @cached_property
    def metrics_consumer(self) -> EventConsumer:
        from chalicelib.services.projections import EventConsumer, MetricsProjection

        return EventConsumer(self.db, MetricsProjection(self.projections), self.publisher)

    @cached_property
    def audit_consumer(self) -> EventConsumer:
        from chalicelib.services.projections import AuditTrail, EventConsumer

        return EventConsumer(self.db, AuditTrail(self.projections), self.publisher)

    @cached_property
    def metrics(self) -> MetricsService:
        from chalicelib.adapters.sessions_repository import SessionsRepository
        from chalicelib.services.metrics import MetricsService

        return MetricsService(self.db, self.projections, SessionsRepository())

    @cached_property
    def tokens(self) -> TokenVerifier:
        from chalicelib.adapters.tokens import TokenVerifier

        s = self.settings
        return TokenVerifier(
            issuer=s.jwt_issuer,
            audience=s.jwt_audience,
            algorithms=s.jwt_algorithms,
            secret=s.jwt_secret,
            public_key=s.jwt_public_key,
            leeway_seconds=s.jwt_leeway_seconds,
            jwks_url=s.jwt_jwks_url,
            jwks_cache_seconds=s.jwt_jwks_cache_seconds,
            roles_claim=s.jwt_roles_claim,
        )

    @cached_property
    def idempotency(self) -> IdempotentCommands:
        from chalicelib.services.idempotency import IdempotentCommands

        return IdempotentCommands(self.redis, self.settings.idempotency_ttl_seconds)

    @cached_property
    def health(self) -> HealthService:
        from chalicelib.services.health import HealthService

        def redis_up() -> bool:
            return bool(self.redis.client.ping())

        def postgres_up() -> bool:
            self.db.ping()
            return True

        return HealthService(
            {"postgres": postgres_up, "redis": redis_up, "kafka": lambda: self.publisher.broker_reachable(2.0)}
        )

    def warm_up(self, timeout_seconds: float = 30.0) -> None:
        """Build the API's components and open their connections now. A long-running server
        calls it at start, so its first requests pay for no import or connect; a Lambda
        function builds each component on first use instead, to keep its cold start small."""
        for component in ("sessions", "reservations", "sales", "metrics", "idempotency", "health", "tokens"):
            getattr(self, component)
        self.db.wait_ready(timeout_seconds)
        self.redis.call(lambda client: client.ping(), default=False)


_container: Container | None = None
_lock = threading.Lock()


def container() -> Container:
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = Container(get_settings())
    return _container


def reset_container() -> None:
    """Forget the settings and every built object (tests use it after changing settings)."""
    global _container
    get_settings.cache_clear()
    with _lock:
        if _container is not None and "dispatcher" in _container.__dict__:
            _container.dispatcher.close()
        if _container is not None and "db" in _container.__dict__:
            _container.db.close()
        _container = None
