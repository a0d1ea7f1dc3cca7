"""Decimal money arithmetic for payroll.

The rounding rule, in one place: every amount is computed at full precision
(28 significant digits) and rounded to the currency's minor unit (2 places) with
ROUND_HALF_UP only when a payslip line is stored, by calling `money()`.
Intermediate results (`prorate()`, formula results, rates) are never rounded, so a
line's figure does not depend on the order of the steps that produced it. Totals
are sums of already-rounded lines, which is what makes a run's total equal the sum
of its payslips to the cent. `allocate()` is for the opposite direction: splitting
a rounded total into rounded parts without losing or inventing a cent.

ROUND_HALF_UP in `decimal` rounds halves away from zero, so a deduction of
-0.005 stores as -0.01, symmetric with an earning of 0.005 storing as 0.01.

Floats are refused everywhere: a float has already lost the cent before it gets here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

MINOR_UNIT_PLACES = 2
CENT = Decimal(1).scaleb(-MINOR_UNIT_PLACES)

# Full-precision arithmetic does not depend on whatever the thread's current
# decimal context happens to be.
_FULL_PRECISION = Context(prec=28, traps=[InvalidOperation])

Number: TypeAlias = Decimal | int


def _as_decimal(value: Number | str, *, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    try:
        result = Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"{name} is not a number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def money(value: Number | str) -> Decimal:
    """Round to the minor unit (0.01) with ROUND_HALF_UP; the only rounding step."""
    return _as_decimal(value, name="value").quantize(CENT, rounding=ROUND_HALF_UP)


def prorate(amount: Number | str, *, days_worked: Number, days_in_period: Number) -> Decimal:
    """amount * days_worked / days_in_period at full precision, not rounded.

    Raises ValueError unless 0 <= days_worked <= days_in_period and days_in_period > 0.
    """
    amount_value = _as_decimal(amount, name="amount")
    worked = _as_decimal(days_worked, name="days_worked")
    period = _as_decimal(days_in_period, name="days_in_period")
    if period <= 0:
        raise ValueError(f"days_in_period must be positive, got {period}")
    if not 0 <= worked <= period:
        raise ValueError(f"days_worked must be between 0 and {period}, got {worked}")
    # Multiplying first keeps exact results exact (3000 * 10 / 30, not 3000 * 0.333...).
    return _FULL_PRECISION.divide(_FULL_PRECISION.multiply(amount_value, worked), period)


def allocate(total: Number | str, weights: Sequence[Number]) -> list[Decimal]:
    """Split `total` into len(weights) amounts proportional to `weights`, summing exactly to it.

    Largest-remainder method in cents: each part gets the floor of its exact share,
    then the cents left over go one each to the parts with the largest fractional
    remainders; ties go to the earlier part, so the result is deterministic.
    A negative total is allocated as its absolute value with every part negated.

    Raises ValueError if `total` has fractions of a cent, a weight is negative,
    or there is no positive weight.
    """
    total_value = _as_decimal(total, name="total")
    if total_value != total_value.quantize(CENT):
        raise ValueError(f"total must be a whole number of cents, got {total_value}")
    shares = [Fraction(_as_decimal(weight, name="weight")) for weight in weights]
    if any(share < 0 for share in shares):
        raise ValueError("weights must not be negative")
    weight_sum = sum(shares, Fraction(0))
    if weight_sum == 0:
        raise ValueError("at least one weight must be positive")

    sign = -1 if total_value < 0 else 1
    total_cents = int(abs(total_value).scaleb(MINOR_UNIT_PLACES))
    exact = [total_cents * share / weight_sum for share in shares]
    cents = [int(part) for part in exact]  # floor: every part is non-negative
    leftover = total_cents - sum(cents)
    by_remainder = sorted(range(len(exact)), key=lambda index: (-(exact[index] % 1), index))
    for index in by_remainder[:leftover]:
        cents[index] += 1
    return [Decimal(sign * part).scaleb(-MINOR_UNIT_PLACES) for part in cents]
