"""The gaps tests/aws/moto_gaps.py fills are real: plain moto 5.2.5 shows them.

When one of these starts failing, moto has caught up: delete the matching patch.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

MSK = "arn:aws:kafka:us-east-1:123456789012:cluster/cinema/6f1c2a3b-1111-2222-3333-444455556666-2"


@pytest.fixture
def function() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="gap", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
        )["Role"]["Arn"]
        queue = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="gap-dlq")["QueueUrl"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
        boto3.client("lambda", region_name="us-east-1").create_function(
            FunctionName="gap",
            Runtime="python3.11",
            Role=role,
            Handler="handler.handle",
            Code={"ZipFile": code.getvalue()},
            DeadLetterConfig={"TargetArn": f"arn:aws:sqs:us-east-1:123456789012:{queue.rsplit('/', 1)[1]}"},
        )
        yield "gap"


def test_moto_does_not_keep_the_dead_letter_config(function):
    configuration = boto3.client("lambda", region_name="us-east-1").get_function(FunctionName=function)["Configuration"]
    assert "DeadLetterConfig" not in configuration


def test_moto_refuses_msk_event_source_mappings(function):
    with pytest.raises(ClientError, match="Invalid EventSourceArn"):
        boto3.client("lambda", region_name="us-east-1").create_event_source_mapping(
            EventSourceArn=MSK, FunctionName=function, Topics=["cinema.booking-events"], StartingPosition="LATEST"
        )
