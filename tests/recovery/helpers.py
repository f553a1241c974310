"""Helpers of the recovery tests."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from ketacare.errors import KetaCareError
from ketacare.kernel import clock
from ketacare.outcomes.models import ResponseSource, ScaleResponse


def refused(code: str, call: Any) -> KetaCareError:
    """Assert the call is refused with this code."""
    with pytest.raises(KetaCareError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def key() -> str:
    return secrets.token_hex(8)


def craving(patient: Any, total: int, days_ago: int) -> ScaleResponse:
    """A craving rating recorded some days ago."""
    return ScaleResponse.objects.create(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id="craving_nrs",
        answers=[total],
        total=total,
        band="rating (no validated cut-points)",
        alerts=[],
        source=ResponseSource.STAFF,
        recorded_at=clock.now() - timedelta(days=days_ago),
    )
