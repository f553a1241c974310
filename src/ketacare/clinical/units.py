"""Decimal quantities with explicit units: conversion of inputs, rounding, and display."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from ketacare.clinical.errors import InvalidInput

# Quantities are plain Decimals; their unit is in every name: dose_mg, weight_kg, height_cm,
# volume_ml, rate_ml_per_h, concentration_mg_per_ml, mg_per_kg, duration_min.


def to_decimal(value: object, field: str, *, allow_zero: bool = False) -> Decimal:
    """Convert an input to a finite positive Decimal (floats via their repr), or InvalidInput."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str | float):
        raise InvalidInput(f"{field} needs a number, got {value!r}", field=field)
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as error:
        raise InvalidInput(f"{field} needs a number, got {value!r}", field=field) from error
    if not number.is_finite() or number < 0 or (number == 0 and not allow_zero):
        raise InvalidInput(
            f"{field} must be a {'non-negative' if allow_zero else 'positive'} number, got "
            f"{value!r}",
            field=field,
        )
    return number


def round_down(value: Decimal, step: Decimal) -> Decimal:
    """Round down to a multiple of step (so a delivered amount never exceeds the order)."""
    return ((value / step).to_integral_value(rounding=ROUND_DOWN) * step).quantize(step)


def round_half_up(value: Decimal, step: Decimal) -> Decimal:
    """Round half up to a multiple of step (weights and other displayed measurements)."""
    return ((value / step).to_integral_value(rounding=ROUND_HALF_UP) * step).quantize(step)


def show(value: Decimal) -> str:
    """Display a Decimal in plain notation at its own precision ('40.0', '0.75')."""
    return format(value, "f")
