"""The invariant checker, run after every benchmark run (and usable on its own).

For the sessions of a run it checks, in PostgreSQL and on the Kafka topic:

- no seat is in more than one sale, and the sold seats are exactly the seats of the sales;
- no seat is held by two live reservations (and every live hold owns its seat rows);
- the outbox drains to zero (waits for the relay), and nothing went to the dead-letter path;
- every sale has exactly one ``sale.confirmed`` event on the topic (counted by eventId and
  by saleId), and every published outbox event of the run is on the topic;
- no pending reservation outlives its expiry by more than one sweep interval.

The topic is read with ``assign()`` from the beginning of every partition up to its high
watermark (as ``tests/kafka_helpers.read_topic`` does). One ``TopicLog`` keeps its position,
so later checks only read what was added since.

    python -m bench.invariants                 # every bench session of the last day
    python -m bench.invariants --like "bench 20261129-0400 %"   # one run
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from psycopg.rows import dict_row

from chalicelib.config import get_settings


@dataclass(frozen=True, slots=True)
class TopicMessage:
    key: str
    event_id: str
    event_type: str
    sale_id: str | None


class TopicLog:
    """Every message of a topic, read from offset 0 of each partition up to its high
    watermark; ``refresh()`` reads on to the new high watermarks."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"bench-invariants-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=30).topics[topic].partitions
        self._partitions = sorted(partitions)
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in self._partitions])
        self._next = {p: 0 for p in self._partitions}
        self.by_key: dict[str, list[TopicMessage]] = defaultdict(list)
        self.total = 0

    def refresh(self, max_seconds: float = 120.0) -> None:
        ends = {
            p: self._consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=30)[1]
            for p in self._partitions
        }
        remaining = {p for p, end in ends.items() if self._next[p] < end}
        deadline = time.monotonic() + max_seconds
        while remaining and time.monotonic() < deadline:
            for message in self._consumer.consume(1000, 0.5):
                if message.error():
                    continue
                partition, offset = message.partition(), message.offset()
                self._next[partition] = offset + 1
                self.total += 1
                headers = {k: (v.decode() if v else "") for k, v in (message.headers() or [])}
                key = message.key().decode() if message.key() else ""
                event_type = headers.get("eventType", "")
                sale_id = None
                if event_type == "sale.confirmed":
                    try:
                        sale_id = json.loads(message.value() or b"{}").get("saleId")
                    except ValueError:
                        sale_id = None
                self.by_key[key].append(TopicMessage(key, headers.get("eventId", ""), event_type, sale_id))
            remaining = {p for p in remaining if self._next[p] < ends[p]}
        if remaining:
            raise RuntimeError(f"could not read {self.topic} to its end within {max_seconds}s")

    def close(self) -> None:
        self._consumer.close()


@dataclass
class InvariantReport:
    sessions: int
    sales: int = 0
    double_sales: int = 0  # seats that are in more than one sale
    sold_without_sale: int = 0  # seats marked sold that no sale lists
    sale_seat_not_sold: int = 0  # seats a sale lists that are not marked sold
    sale_not_confirmed: int = 0  # sales whose reservation is not 'confirmed'
    double_holds: int = 0  # seats in two live reservations
    hold_seat_mismatch: int = 0  # live reservations' seats not pointing back at them
    hold_on_sold_seat: int = 0  # live holds of a seat sold to someone else
    outbox_undrained: int = 0  # unpublished rows of the run after waiting for the relay
    outbox_undrained_global: int = 0  # the same over the whole database (other users too)
    outbox_dead: int = 0
    outbox_drain_seconds: float = 0.0
    kafka_checked: bool = True
    sales_without_event: int = 0  # lost sale.confirmed
    sales_with_many_events: int = 0  # more than one distinct sale.confirmed eventId
    duplicate_deliveries: int = 0  # same eventId delivered more than once (at-least-once, harmless)
    # Events of the run that consumers of the topic will never see: published rows missing from
    # the topic, rows the relay gave up on (dead: at best on the DLQ), rows still unpublished.
    lost_events: int = 0
    phantom_sale_events: int = 0  # sale.confirmed events for a sale that does not exist
    overdue_pending: int = 0  # pending reservations past expiry by more than the allowed lag
    max_overdue_seconds: float = 0.0
    allowed_overdue_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def _one(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> Any:
    row = conn.execute(sql, params).fetchone()
    return next(iter(row.values())) if row else None


def check(
    session_ids: Sequence[str],
    *,
    topic_log: TopicLog | None,
    database_url: str | None = None,
    kafka_sessions: Iterable[str] | None = None,
    sweep_interval: float = 5.0,
    overdue_tolerance: float = 1.0,
    drain_timeout: float = 120.0,
) -> InvariantReport:
    """Check the invariants for ``session_ids``. ``kafka_sessions`` (default: all of them)
    are the sessions whose events must be on the topic: the raw-SQL baseline writes outbox
    rows it never publishes (it runs without Kafka), so its sessions are left out there."""
    url = database_url or get_settings().database_url
    report = InvariantReport(sessions=len(session_ids))
    if not session_ids:
        return report
    sessions = [uuid.UUID(s) for s in session_ids]
    keys = [str(s) for s in sessions]
    kafka_keys = list(kafka_sessions) if kafka_sessions is not None else keys
    params: dict[str, Any] = {"s": sessions, "k": keys, "kk": kafka_keys}
    with psycopg.connect(url, row_factory=dict_row, autocommit=True, application_name="bench-invariants") as conn:
        # Sales ------------------------------------------------------------------------
        report.sales = _one(conn, "SELECT count(*) FROM sales WHERE session_id = ANY(%(s)s)", params)
        report.double_sales = _one(
            conn,
            """SELECT count(*) FROM (SELECT ss.seat_id FROM sale_seats ss JOIN sales sa ON sa.id = ss.sale_id
               WHERE sa.session_id = ANY(%(s)s) GROUP BY ss.seat_id HAVING count(*) > 1) x""",
            params,
        )
        report.sold_without_sale = _one(
            conn,
            """SELECT count(*) FROM seats st WHERE st.session_id = ANY(%(s)s) AND st.status = 'sold'
               AND NOT EXISTS (SELECT 1 FROM sale_seats ss JOIN sales sa ON sa.id = ss.sale_id
                               WHERE ss.seat_id = st.id AND sa.reservation_id = st.reservation_id)""",
            params,
        )
        report.sale_seat_not_sold = _one(
            conn,
            """SELECT count(*) FROM sale_seats ss JOIN sales sa ON sa.id = ss.sale_id
               JOIN seats st ON st.id = ss.seat_id
               WHERE sa.session_id = ANY(%(s)s)
                 AND (st.status <> 'sold' OR st.reservation_id IS DISTINCT FROM sa.reservation_id)""",
            params,
        )
        report.sale_not_confirmed = _one(
            conn,
            """SELECT count(*) FROM sales sa JOIN reservations r ON r.id = sa.reservation_id
               WHERE sa.session_id = ANY(%(s)s) AND r.status <> 'confirmed'""",
            params,
        )
        # Live holds (one statement, so one now()) -----------------------------------------
        row = conn.execute(
            """
            WITH live AS (
                SELECT r.id, seat FROM reservations r CROSS JOIN unnest(r.seat_ids) AS seat
                WHERE r.session_id = ANY(%(s)s) AND r.status = 'pending' AND r.expires_at > now()
            )
            SELECT
              (SELECT count(*) FROM (SELECT seat FROM live GROUP BY seat HAVING count(*) > 1) x) AS double_holds,
              (SELECT count(*) FROM live JOIN seats st ON st.id = live.seat
                WHERE st.status <> 'reserved' OR st.reservation_id IS DISTINCT FROM live.id) AS mismatch,
              (SELECT count(*) FROM live JOIN sale_seats ss ON ss.seat_id = live.seat
                JOIN sales sa ON sa.id = ss.sale_id WHERE sa.reservation_id <> live.id) AS on_sold
            """,
            params,
        ).fetchone()
        report.double_holds, report.hold_seat_mismatch, report.hold_on_sold_seat = (
            row["double_holds"],
            row["mismatch"],
            row["on_sold"],
        )
        # Outbox drains (the relay runs every 2 s; after a Kafka outage rows back off) ---
        started = time.monotonic()
        while True:
            report.outbox_undrained = _one(
                conn,
                """SELECT count(*) FROM outbox WHERE message_key = ANY(%(k)s)
                   AND published_at IS NULL AND dead_at IS NULL""",
                params,
            )
            if report.outbox_undrained == 0 or time.monotonic() - started > drain_timeout:
                break
            time.sleep(0.5)
        report.outbox_drain_seconds = round(time.monotonic() - started, 1)
        report.outbox_undrained_global = _one(
            conn, "SELECT count(*) FROM outbox WHERE published_at IS NULL AND dead_at IS NULL", params
        )
        report.outbox_dead = _one(
            conn, "SELECT count(*) FROM outbox WHERE message_key = ANY(%(k)s) AND dead_at IS NOT NULL", params
        )
        # Kafka ------------------------------------------------------------------------
        if topic_log is None:
            report.kafka_checked = False
        else:
            topic_log.refresh()
            published = conn.execute(
                """SELECT event_id::text AS event_id, event_type, message_key FROM outbox
                   WHERE message_key = ANY(%(kk)s) AND published_at IS NOT NULL""",
                params,
            ).fetchall()
            sales = conn.execute(
                "SELECT id::text AS id FROM sales WHERE session_id = ANY(%(kk)s::uuid[])", params
            ).fetchall()
            seen_ids: dict[str, int] = defaultdict(int)
            sale_event_ids: dict[str, set[str]] = defaultdict(set)
            for key in kafka_keys:
                for message in topic_log.by_key.get(key, ()):
                    seen_ids[message.event_id] += 1
                    if message.event_type == "sale.confirmed" and message.sale_id:
                        sale_event_ids[message.sale_id].add(message.event_id)
            report.duplicate_deliveries = sum(n - 1 for n in seen_ids.values() if n > 1)
            report.lost_events = (
                sum(1 for row in published if row["event_id"] not in seen_ids)
                + report.outbox_dead
                + report.outbox_undrained
            )
            sale_ids = {row["id"] for row in sales}
            report.sales_without_event = sum(1 for s in sale_ids if not sale_event_ids.get(s))
            report.sales_with_many_events = sum(1 for s in sale_ids if len(sale_event_ids.get(s, ())) > 1)
            report.phantom_sale_events = sum(1 for s in sale_event_ids if s not in sale_ids)
        # Expiry: nothing pending long after its expiry (the sweeper runs every interval) --
        report.allowed_overdue_seconds = sweep_interval + overdue_tolerance
        row = conn.execute(
            """SELECT count(*) FILTER (WHERE expires_at < now() - make_interval(secs => %(lag)s)) AS overdue,
                      coalesce(max(extract(epoch FROM now() - expires_at)), 0)::float AS worst
               FROM reservations WHERE session_id = ANY(%(s)s) AND status = 'pending' AND expires_at < now()""",
            {**params, "lag": report.allowed_overdue_seconds},
        ).fetchone()
        report.overdue_pending, report.max_overdue_seconds = row["overdue"], round(row["worst"], 1)

    for name in (
        "double_sales",
        "sold_without_sale",
        "sale_seat_not_sold",
        "sale_not_confirmed",
        "double_holds",
        "hold_seat_mismatch",
        "hold_on_sold_seat",
        "outbox_undrained",
        "outbox_dead",
        "sales_without_event",
        "sales_with_many_events",
        "lost_events",
        "phantom_sale_events",
        "overdue_pending",
    ):
        value = getattr(report, name)
        if value:
            report.problems.append(f"{name}={value}")
    return report


def sessions_like(pattern: str, hours: float, database_url: str | None = None) -> list[str]:
    """Ids of the sessions whose movieName matches the SQL LIKE ``pattern``, created in the
    last ``hours``."""
    url = database_url or get_settings().database_url
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            """SELECT id::text FROM movie_sessions
               WHERE movie_name LIKE %s AND created_at > now() - make_interval(hours => %s)""",
            (pattern, hours),
        ).fetchall()
    return [row[0] for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--like", default="bench %", help="check sessions whose movieName is LIKE this")
    parser.add_argument("--hours", type=float, default=24.0, help="created in the last N hours")
    parser.add_argument(
        "--unpublished-like", default="bench % raw-sql%", help="sessions of the raw-SQL baseline (never on Kafka)"
    )
    parser.add_argument("--no-kafka", action="store_true")
    args = parser.parse_args(argv)
    settings = get_settings()
    sessions = sessions_like(args.like, args.hours)
    raw = set(sessions_like(args.unpublished_like, args.hours))
    log = (
        None
        if args.no_kafka
        else TopicLog(settings.kafka_bootstrap_servers, f"{settings.kafka_topic_prefix}.booking-events")
    )
    try:
        report = check(sessions, topic_log=log, kafka_sessions=[s for s in sessions if s not in raw])
    finally:
        if log is not None:
            log.close()
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
