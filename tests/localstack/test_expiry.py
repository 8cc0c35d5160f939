"""Expiry through the schedule: the stage's EventBridge rule (rate(1 minute)) invokes the
sweeper function, which expires a lapsed hold, releases its seats and announces it.

Which invocation did what is read from the function's OnSuccess destination (an SQS queue
made for the test): each record carries the scheduled event EventBridge delivered and what
the sweeper returned (``{"expired": n}``).

``make run`` sweeps every 5 s: if it works on the stack's database (``cinema_localstack`` by
default, so only when LOCALSTACK_DATABASE_URL points at its ``cinema``), it expires the hold
first, and this test says so (docs/localstack.md).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api_client import ApiClient
from tests.helpers import db_rows
from tests.localstack.support import Deployment, TopicReader

pytestmark = pytest.mark.slow

SCHEDULE_PERIOD = timedelta(minutes=1)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def sweeps(stack: Deployment):
    """Route the sweeper's successful asynchronous invocations to a queue of the test's own."""
    lam, sqs = stack.client("lambda"), stack.client("sqs")
    function = stack.function_name("expire_reservations")
    queue_url = sqs.create_queue(QueueName=f"expiry-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.put_function_event_invoke_config(
        FunctionName=function, MaximumRetryAttempts=0, DestinationConfig={"OnSuccess": {"Destination": queue_arn}}
    )
    received: list[dict[str, Any]] = []

    def read(wait: int = 5) -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
        for message in messages.get("Messages", []):
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return received

    try:
        yield read
    finally:
        lam.delete_function_event_invoke_config(FunctionName=function)
        sqs.delete_queue(QueueUrl=queue_url)


def test_a_lapsed_hold_is_expired_by_the_scheduled_sweeper(
    stack: Deployment, driver: ApiClient, kafka: TopicReader, sweeps, user: str
):
    events = stack.client("events")
    function = stack.function_name("expire_reservations")
    function_arn = stack.client("lambda").get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    # SAM names the rule; the one that targets the sweeper is its schedule.
    [rule_name] = events.list_rule_names_by_target(TargetArn=function_arn)["RuleNames"]
    rule = events.describe_rule(Name=rule_name)
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED", rule
    assert [t["Arn"] for t in events.list_targets_by_rule(Rule=rule_name)["Targets"]] == [function_arn]

    session = driver.new_session(totalSeats=16)
    seat = driver.seats(session["id"])[3]
    status, reservation, _ = driver.request(
        "POST", "/reservations", driver.hold_body(session["id"], [seat["id"]], user)
    )
    assert status == 201, reservation
    lapses_at = parse_time(reservation["expiresAt"])

    # The first sweep EventBridge starts after the hold lapsed (within a schedule period).
    deadline = time.monotonic() + (lapses_at - datetime.now(UTC)).total_seconds() + 2.5 * 60
    sweep = None
    while sweep is None and time.monotonic() < deadline:
        for record in sweeps():
            delivered = record["requestPayload"]
            if (
                delivered.get("source") == "aws.events"
                and delivered.get("detail-type") == "Scheduled Event"
                and parse_time(delivered["time"]) > lapses_at
            ):
                sweep = record
                break
    assert sweep is not None, f"no scheduled sweep after {lapses_at} reached the destination"
    assert sweep["requestPayload"]["resources"] == [rule["Arn"]], sweep
    assert sweep["requestContext"]["condition"] == "Success", sweep
    assert sweep["requestContext"]["functionArn"].startswith(function_arn), sweep

    row = db_rows("SELECT status, updated_at FROM reservations WHERE id = %s", (reservation["id"],))[0]
    assert row["status"] == "expired", row
    assert sweep["responsePayload"]["expired"] >= 1, (
        f"the hold was expired at {row['updated_at']}, before the scheduled sweep of "
        f"{sweep['requestPayload']['time']}: another sweeper works on this database ({stack.database_url}; "
        "`make run`?). The LocalStack stack needs a database of its own: see docs/localstack.md"
    )

    # Its seat is free again, in the database and on the seat map; the expiry was announced.
    assert db_rows("SELECT status, reservation_id FROM seats WHERE id = %s", (seat["id"],)) == [
        {"status": "available", "reservation_id": None}
    ]
    assert driver.seats(session["id"])[3]["status"] == "available"
    assert driver.request("GET", f"/reservations/{reservation['id']}")[1]["status"] == "expired"
    expected = Counter({"reservation.created": 1, "reservation.expired": 1, "seat.released": 1})
    announced = kafka.events_of(session["id"], lambda found: Counter(e["type"] for e in found) >= expected)
    assert Counter(e["type"] for e in announced) == expected, announced
    assert all(e["reservationId"] == reservation["id"] for e in announced)

    # The sweeper's logs reached CloudWatch Logs.
    logs = stack.client("logs")
    request_id = sweep["requestContext"]["requestId"]
    messages = [
        event["message"]
        for event in logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
        if request_id in event["message"]
    ]
    assert any(m.startswith(f"START RequestId: {request_id}") for m in messages), messages
    assert any(m.startswith(f"REPORT RequestId: {request_id}") for m in messages), messages
