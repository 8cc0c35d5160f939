"""Who acts: the verified caller a token names."""

from __future__ import annotations

from dataclasses import dataclass

# A user id is a token's subject and a reservation's owner: one limit for both.
MAX_USER_ID_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: str
    is_admin: bool
