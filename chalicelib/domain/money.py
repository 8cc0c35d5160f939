"""Money is Decimal with two places, end to end: never float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

CENTS = Decimal("0.01")


def to_money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def sale_amount(unit_price: Decimal, seat_count: int) -> Decimal:
    if seat_count < 1:
        raise ValueError("a sale covers at least one seat")
    return to_money(unit_price * seat_count)


def format_money(value: Decimal) -> str:
    return f"{to_money(value):.2f}"
