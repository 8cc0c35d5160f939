"""How the Kafka clients authenticate: the librdkafka settings merged into every producer,
consumer and admin client of the app.

``KAFKA_AUTH=plaintext`` (the local broker) adds nothing. ``KAFKA_AUTH=aws_msk_iam`` is MSK's
IAM access control: TLS plus SASL/OAUTHBEARER, whose token is a SigV4-signed
``kafka-cluster:Connect`` request made by ``aws-msk-iam-sasl-signer-python`` with the
function's own role credentials. librdkafka calls ``oauth_cb`` for a first token and again
before the token expires (15 minutes), from the client's poll/flush calls.
"""

from __future__ import annotations

from typing import Any

from chalicelib.config import Settings, get_settings
from chalicelib.observability import logger


def msk_iam_token(region: str) -> tuple[str, float]:
    """An MSK IAM token and its expiry in seconds since the epoch (what oauth_cb returns)."""
    # Imported here: it loads boto3, which only an MSK-authenticated client needs.
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
    return token, expiry_ms / 1000


def kafka_security_config(settings: Settings | None = None) -> dict[str, Any]:
    """Extra librdkafka configuration for the settings' ``kafka_auth``."""
    settings = settings or get_settings()
    if settings.kafka_auth == "plaintext":
        return {}
    region = settings.aws_region

    def oauth_cb(_config: str | None) -> tuple[str, float]:
        try:
            return msk_iam_token(region)
        except Exception:
            # librdkafka reports the failure as an authentication error and calls again.
            logger.exception("cannot sign an MSK IAM token")
            raise

    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "oauth_cb": oauth_cb,
    }
