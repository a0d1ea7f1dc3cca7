from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.hr.money import allocate, money, prorate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2.345"), Decimal("2.35")),
        (Decimal("2.344999"), Decimal("2.34")),
        (Decimal("0.005"), Decimal("0.01")),
        (Decimal("-0.005"), Decimal("-0.01")),
        (Decimal("-2.345"), Decimal("-2.35")),
        (Decimal("2.5"), Decimal("2.50")),
        (7, Decimal("7.00")),
        ("1000.125", Decimal("1000.13")),
    ],
)
def test_money_rounds_half_up_to_cents(value, expected):
    result = money(value)

    assert result == expected
    assert result.as_tuple().exponent == -2


def test_money_refuses_float():
    with pytest.raises(TypeError):
        money(0.1)  # type: ignore[arg-type]  # the point of the test


@pytest.mark.parametrize("value", ["NaN", "Infinity", "abc"])
def test_money_refuses_non_finite_and_garbage(value):
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError is the contract
        money(value)


def test_prorate_keeps_full_precision():
    result = prorate(Decimal("1000.00"), days_worked=10, days_in_period=31)

    assert result == Decimal("322.5806451612903225806451613")
    assert money(result) == Decimal("322.58")


def test_prorate_exact_cases():
    assert prorate(Decimal("3000"), days_worked=10, days_in_period=30) == Decimal("1000")
    assert prorate(Decimal("3000"), days_worked=Decimal("10.5"), days_in_period=30) == Decimal(
        "1050"
    )
    assert prorate(Decimal("3000"), days_worked=0, days_in_period=30) == Decimal("0")
    assert prorate(Decimal("3000"), days_worked=30, days_in_period=30) == Decimal("3000")


@pytest.mark.parametrize(("worked", "period"), [(31, 30), (-1, 30), (1, 0)])
def test_prorate_refuses_impossible_days(worked, period):
    with pytest.raises(ValueError):  # noqa: PT011
        prorate(Decimal("100"), days_worked=worked, days_in_period=period)


def test_allocate_splits_by_largest_remainder():
    assert allocate(Decimal("100.00"), [1, 1, 1]) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]
    assert allocate(Decimal("0.05"), [1, 1, 1, 1, 1, 1]) == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.00"),
    ]


def test_allocate_gives_leftover_cents_to_largest_remainders():
    # Exact shares: 1.666.., 3.333.., 5.00 cents → floors 1, 3, 5 = 9; one cent left,
    # and the first share has the largest remainder (0.666..).
    assert allocate(Decimal("0.10"), [Decimal("1"), Decimal("2"), Decimal("3")]) == [
        Decimal("0.02"),
        Decimal("0.03"),
        Decimal("0.05"),
    ]


def test_allocate_negative_total_and_zero_weights():
    assert allocate(Decimal("-10.00"), [1, 0, 2]) == [
        Decimal("-3.33"),
        Decimal("0.00"),
        Decimal("-6.67"),
    ]


@pytest.mark.parametrize(
    ("total", "weights"),
    [
        (Decimal("10.001"), [1, 1]),
        (Decimal("10.00"), []),
        (Decimal("10.00"), [0, 0]),
        (Decimal("10.00"), [1, -1]),
    ],
)
def test_allocate_refuses_bad_input(total, weights):
    with pytest.raises(ValueError):  # noqa: PT011
        allocate(total, weights)


@given(
    total_cents=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False), min_size=1
    ).filter(lambda ws: sum(ws) > 0),
)
def test_allocate_always_sums_exactly_to_the_total(total_cents, weights):
    total = Decimal(total_cents).scaleb(-2)

    parts = allocate(total, weights)

    assert sum(parts, Decimal(0)) == total
    assert len(parts) == len(weights)
    assert all(part == money(part) for part in parts)
    # No part strays more than a cent from its exact share.
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - total * weight / weight_sum) < Decimal("0.01")
