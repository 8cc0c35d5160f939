from decimal import Decimal

import pytest

from chalicelib.domain.money import format_money, sale_amount


def test_amount_is_exact_decimal_arithmetic():
    # 0.1 * 3 is 0.30000000000000004 in float; money must never see that.
    assert sale_amount(Decimal("0.10"), 3) == Decimal("0.30")
    assert sale_amount(Decimal("25.00"), 2) == Decimal("50.00")
    assert sale_amount(Decimal("19.99"), 7) == Decimal("139.93")


def test_amount_needs_at_least_one_seat():
    with pytest.raises(ValueError):
        sale_amount(Decimal("10.00"), 0)


def test_money_is_formatted_with_two_places():
    assert format_money(Decimal("25")) == "25.00"
    assert format_money(Decimal("7.5")) == "7.50"
