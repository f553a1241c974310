"""Intake records that cannot be true are challenged, not cleared (the core's plausibility).

At the chair: intake accepted 165 kg at 163 cm and a baseline BP of 300/200 without a word.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import KetaCareError
from ketacare.patients import services
from ketacare.patients.models import BodyMeasurement

pytestmark = pytest.mark.django_db


def _nurse(world):
    return Actor(user=world.staff["nurse"], clinic=world.clinic_a, role=Role.NURSE)


def test_165_kg_at_163_cm_is_challenged_and_kept_only_when_confirmed(world):
    nurse = _nurse(world)
    with pytest.raises(KetaCareError) as refused:
        services.measurement_record(
            actor=nurse,
            patient_id=world.patient_a.pk,
            measured_on=date.today(),  # noqa: DTZ011 - the clinic's day, as the service checks
            height_cm=Decimal("163"),
            weight_kg=Decimal("165"),
        )
    assert refused.value.code == "implausible_measurement"
    assert "BMI of 62.1" in str(refused.value)
    assert not BodyMeasurement.objects.filter(patient=world.patient_a).exists()
    kept = services.measurement_record(
        actor=nurse,
        patient_id=world.patient_a.pk,
        measured_on=date.today(),  # noqa: DTZ011
        height_cm=Decimal("163"),
        weight_kg=Decimal("165"),
        confirm_implausible=True,
    )
    assert kept.weight_kg == Decimal("165.0")


def test_a_weight_far_from_last_weeks_is_challenged(world):
    nurse = _nurse(world)
    services.measurement_record(
        actor=nurse,
        patient_id=world.patient_a.pk,
        measured_on=date.today() - timedelta(days=3),  # noqa: DTZ011
        weight_kg=Decimal("68"),
    )
    with pytest.raises(KetaCareError) as refused:
        services.measurement_record(
            actor=nurse,
            patient_id=world.patient_a.pk,
            measured_on=date.today(),  # noqa: DTZ011
            weight_kg=Decimal("176"),
        )
    assert refused.value.code == "implausible_measurement"
    assert "79.8 kg" in str(refused.value)


def _vitals(systolic: int, diastolic: int, **extra: object) -> dict[str, object]:
    return {
        "measured_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "systolic_mmhg": systolic,
        "diastolic_mmhg": diastolic,
        **extra,
    }


def test_a_baseline_bp_of_300_over_200_is_challenged(world):
    nurse = _nurse(world)
    with pytest.raises(KetaCareError) as refused:
        services.chart_section_save(
            actor=nurse,
            patient_id=world.patient_a.pk,
            section="baseline_vitals",
            version=0,
            data=_vitals(300, 200),
        )
    assert "outside the plausible" in str(refused.value)
    assert refused.value.code == "implausible_measurement"
    assert refused.value.field == "systolic_mmhg"
    row = services.chart_section_save(
        actor=nurse,
        patient_id=world.patient_a.pk,
        section="baseline_vitals",
        version=0,
        data=_vitals(300, 200, confirmed_implausible=True),
    )
    assert row.data["systolic_mmhg"] == 300


def _post_intake(client, patient, step, data):
    return client.post(f"/patients/{patient.pk}/intake/?step={step}", {"step": step, **data})


def test_intake_shows_a_challenged_bp_on_the_field_it_names(world):
    # given a nurse filling the intake's baseline vitals with 300/200
    client = world.web(world.staff["nurse"])
    vitals = {
        "version": "0",
        "measured_at": "2025-03-01T09:30",
        "systolic_mmhg": "300",
        "diastolic_mmhg": "200",
    }
    # when the step is saved
    page = _post_intake(client, world.patient_a, "baseline_vitals", vitals)
    # then it is refused with the challenge on the systolic field, and nothing is kept
    assert page.status_code == 422
    form = page.context["form"]
    errors = (form.main if hasattr(form, "main") else form).errors
    assert "outside the plausible" in " ".join(errors["systolic_mmhg"])
    # and once re-measured and confirmed, it is kept
    confirmed = _post_intake(
        client, world.patient_a, "baseline_vitals", {**vitals, "confirmed_implausible": "on"}
    )
    assert confirmed.status_code == 302


def test_intake_shows_a_challenged_weight_on_the_weight_field(world):
    client = world.web(world.staff["nurse"])
    measurement = {
        "measured_on": date.today().isoformat(),  # noqa: DTZ011 - the clinic's day
        "height_cm": "163",
        "weight_kg": "165",
    }
    page = _post_intake(client, world.patient_a, "measurements", measurement)
    assert page.status_code == 422
    assert "BMI of 62.1" in " ".join(page.context["form"].errors["weight_kg"])
    assert not BodyMeasurement.objects.filter(patient=world.patient_a).exists()
