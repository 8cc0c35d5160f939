import random

from chalicelib.services.outbox_relay import BACKOFF_CAP_SECONDS, backoff_seconds


def test_backoff_grows_exponentially_with_full_jitter():
    rng = random.Random(7)
    for attempts in range(12):
        ceiling = min(BACKOFF_CAP_SECONDS, 2**attempts)
        samples = [backoff_seconds(attempts, rng) for _ in range(200)]
        assert all(0 <= s <= ceiling for s in samples)
        assert max(samples) > ceiling * 0.5  # jitter spreads over the whole window
