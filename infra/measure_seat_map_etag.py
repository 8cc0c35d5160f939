"""What a conditional seat-map poll saves: bytes and server time of ``GET /sessions/{id}/seats``
answered 200 (the full map) or 304 (``If-None-Match`` matched), for rooms of several sizes.

Runs the app in process (chalice.test.Client: routing, SQL, serialisation; no HTTP server)
against the database of DATABASE_URL (by default the local services' cinema database), which
must be migrated. It creates its sessions and leaves them there, like the tests.

    .venv/bin/python -m infra.measure_seat_map_etag
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from functools import partial

os.environ.setdefault("AUTH_MODE", "off")
os.environ.setdefault("RATE_LIMIT_PER_IP", "100000000")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _size(response) -> int:
    """Bytes on the wire, roughly: the status line, the headers and the body."""
    headers = sum(len(f"{name}: {value}\r\n") for name, value in response.headers.items())
    return len("HTTP/1.1 200 OK\r\n") + headers + 2 + len(response.body or b"")


def _timed(call, rounds: int) -> tuple[list[float], object]:
    samples, response = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, response


def measure(seat_counts: list[int], rounds: int) -> list[dict[str, object]]:
    from chalice.test import Client

    from app import app

    results = []
    with Client(app, stage_name="local") as client:
        for seats in seat_counts:
            now = datetime.now(UTC)
            body = {
                "movieName": "ETag measurement",
                "roomNumber": "Sala 1",
                "startTime": (now + timedelta(days=2)).isoformat(),
                "endTime": (now + timedelta(days=2, hours=2)).isoformat(),
                "ticketPrice": "25.00",
                "totalSeats": seats,
            }
            json_headers = {"Content-Type": "application/json"}
            created = client.http.post("/sessions", headers=json_headers, body=json.dumps(body))
            session_id = json.loads(created.body)["id"]
            path = f"/sessions/{session_id}/seats"
            seat_ids = [seat["id"] for seat in json.loads(client.http.get(path).body)]
            # A realistic map: a tenth of the room held.
            for start in range(0, seats // 10, 10):
                hold = {
                    "sessionId": session_id,
                    "seatIds": seat_ids[start : start + 10],
                    "userId": f"measure-{start}",
                    "userEmail": "m@example.com",
                }
                client.http.post("/reservations", headers=json_headers, body=json.dumps(hold))
            full = client.http.get(path)
            tag = full.headers["ETag"]
            get_full = partial(client.http.get, path)
            get_unchanged = partial(client.http.get, path, headers={"If-None-Match": tag})
            _timed(get_full, 20)  # warm up both paths
            _timed(get_unchanged, 20)
            full_ms, full = _timed(get_full, rounds)
            cheap_ms, cheap = _timed(get_unchanged, rounds)
            assert full.status_code == 200 and cheap.status_code == 304, (full.status_code, cheap.status_code)
            results.append(
                {
                    "seats": seats,
                    "bytes_200": _size(full),
                    "bytes_304": _size(cheap),
                    "ms_200_median": round(statistics.median(full_ms), 2),
                    "ms_304_median": round(statistics.median(cheap_ms), 2),
                    "ms_200_p95": round(statistics.quantiles(full_ms, n=20)[-1], 2),
                    "ms_304_p95": round(statistics.quantiles(cheap_ms, n=20)[-1], 2),
                }
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seats", default="20,100,500", help="room sizes, comma separated")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    results = measure([int(n) for n in args.seats.split(",")], args.rounds)
    print("| seats | 200 bytes | 304 bytes | 200 ms (median / p95) | 304 ms (median / p95) |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['seats']} | {r['bytes_200']:,} | {r['bytes_304']:,} | "
            f"{r['ms_200_median']} / {r['ms_200_p95']} | {r['ms_304_median']} / {r['ms_304_p95']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
