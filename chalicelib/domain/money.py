"""Money is Decimal with two places, end to end: never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

CENTS = Decimal("0.01")
# "25", "25.00": what a price written as a string may look like. [0-9], not \d: Decimal() also
# reads Arabic-Indic, fullwidth and other digits, and underscores.
_PLAIN_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# A JSON number arrives as a Decimal with whatever exponent it was written with; 1e99999999999
# is refused here rather than handed to arithmetic that cannot cope with it.
_MAX_EXPONENT = 20


def parse_money(value: object) -> Decimal:
    """An amount as a request may give it: a string of ASCII digits with an optional fraction,
    or a JSON number (an int, or a Decimal as the body parser reads fractions). Never a float,
    a bool or digits of another script."""
    if isinstance(value, str):
        if not _PLAIN_DECIMAL.fullmatch(value):
            raise ValueError('must be a decimal number written with the digits 0-9, like "25.00"')
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > _MAX_EXPONENT:
            raise ValueError("must be a finite decimal number of ordinary size")
        return value
    raise ValueError("must be a decimal number")


def to_money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def sale_amount(unit_price: Decimal, seat_count: int) -> Decimal:
    if seat_count < 1:
        raise ValueError("a sale covers at least one seat")
    return to_money(unit_price * seat_count)


def format_money(value: Decimal) -> str:
    return f"{to_money(value):.2f}"
