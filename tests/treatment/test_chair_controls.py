"""The chair-side controls of the hazard log, each shown through the session services.

Low heart rate, low or falling blood pressure, low respiratory rate and low SpO2 alarm; an
infusion under 20 minutes is a hard stop; after esketamine no reason discharges early; the REMS
record's "BP at 40 minutes" is the reading nearest 40 minutes; the recorded dose is the dose the
measured volume delivers.
"""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ketacare.clinical import HardStop
from ketacare.clinical.dosing import DELIVERED_DIFFERS, INFUSION_BELOW_HARD_STOP
from ketacare.clinical.errors import ProtocolViolation
from ketacare.errors import KetaCareError
from ketacare.treatment import selectors, services
from ketacare.treatment.models import DoseOrder
from tests.factories import PatientFactory
from tests.treatment.factories import (
    check_in,
    fresh,
    key,
    order,
    pre_check,
    reading,
    walk_to,
)

pytestmark = pytest.mark.django_db


def _iv(world: Any, team: Any, stage: str) -> Any:
    return walk_to(team, check_in(team, PatientFactory(clinic=world.clinic_a), world.staff), stage)


def _codes(entry: Any) -> set[str]:
    return {a["code"] for a in entry.alarms}


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"systolic": 118, "diastolic": 76, "heart_rate": 38}, "heart_rate_low"),
        ({"systolic": 78, "diastolic": 40, "heart_rate": 72}, "bp_low"),
        ({"systolic": 94, "diastolic": 70, "heart_rate": 72}, "bp_fall"),
        ({"systolic": 118, "diastolic": 76, "respiratory_rate": 8}, "respiratory_rate_low"),
        ({"systolic": 118, "diastolic": 76, "spo2": 88}, "spo2_low"),
    ],
)
def test_a_low_reading_at_the_chair_carries_the_cores_alarm(world, team, values, code):
    # given an infusion running after a pre-dose BP of 122/78
    session = _iv(world, team, "dosing")
    # when the nurse records the low reading
    entry = reading(team, session, **values)
    # then it carries the alarm, to be answered before discharge
    assert code in _codes(entry)


def test_an_iv_infusion_under_20_minutes_is_refused_whatever_the_reason(world, team):
    session = _iv(world, team, "pre_checked")
    with pytest.raises(HardStop) as stopped:
        order(
            team,
            session,
            mg_per_kg=Decimal("0.5"),
            concentration_mg_per_ml=Decimal("1"),
            container_volume_ml=Decimal("100"),
            duration_min=Decimal("15"),
            override_reason="The patient asked to be quick",
        )
    assert stopped.value.code == INFUSION_BELOW_HARD_STOP
    assert not DoseOrder.objects.filter(session=session).exists()


def test_esketamine_discharge_right_after_the_last_device_is_refused_even_for_a_prescriber(
    world, team
):
    # given an esketamine session whose last device was just used
    patient = PatientFactory(clinic=world.clinic_a)
    session = walk_to(team, check_in(team, patient, world.staff, "esketamine_trd"), "observation")
    # when a prescriber discharges with a reason
    with pytest.raises(KetaCareError) as refused:
        services.discharge_record(
            actor=team.prescriber,
            session_id=session.pk,
            version=fresh(session).version,
            idempotency_key=key(),
            criteria={},
            override_reason="The escort must leave",
        )
    # then it is refused with the REMS reason, and no reason overrides it
    assert refused.value.code == "discharge_refused"
    assert "no reason overrides it" in str(refused.value)


def test_the_rems_bp_at_40_minutes_is_the_reading_nearest_40_minutes(world, team, session_clock):
    # given an esketamine session with readings 10, 37 and 46 minutes after the first device
    patient = PatientFactory(clinic=world.clinic_a)
    session = walk_to(team, check_in(team, patient, world.staff, "esketamine_trd"), "observation")
    first = fresh(session).administration.devices.order_by("number").first().administered_at
    for minutes, systolic in ((10, 150), (37, 142), (46, 136)):
        session_clock.travel(first + timedelta(minutes=minutes) - session_clock.now())
        reading(team, session, systolic=systolic, diastolic=84, heart_rate=76)
    # when the REMS record is read
    rems = selectors.rems_record(actor=team.nurse, session_id=session.pk)
    # then "BP at 40 minutes" is the 37-minute reading, not the 10-minute one
    assert rems.bp_at_40 is not None and rems.bp_at_40.systolic == 142


def test_the_rems_bp_at_40_minutes_is_missing_when_only_an_early_reading_exists(
    world, team, session_clock
):
    patient = PatientFactory(clinic=world.clinic_a)
    session = walk_to(team, check_in(team, patient, world.staff, "esketamine_trd"), "observation")
    reading(team, session, systolic=150, diastolic=84, heart_rate=76)
    rems = selectors.rems_record(actor=team.nurse, session_id=session.pk)
    assert rems.bp_at_40 is None


def test_the_order_records_the_dose_the_measured_volume_delivers(world, team):
    # given 45 kg and ketamine 50 mg/mL: 0.5 mg/kg is 22.5 mg, but 0.4 mL is what can be drawn
    session = check_in(team, PatientFactory(clinic=world.clinic_a), world.staff)
    pre_check(team, session, weight_kg=Decimal("45.0"), height_cm=Decimal("155.0"))
    inputs = {
        "mg_per_kg": Decimal("0.5"),
        "concentration_mg_per_ml": Decimal("50"),
        "container_volume_ml": Decimal("10"),
    }
    # when the prescriber orders it without a reason, the difference of more than 5% stops it
    with pytest.raises(ProtocolViolation) as stopped:
        order(team, session, **inputs)
    assert stopped.value.code == DELIVERED_DIFFERS
    # and with the reason, the order records the 20 mg that 0.4 mL delivers
    placed = order(team, session, **inputs, override_reason="Only 50 mg/mL in stock today")
    assert placed.volume_ml == Decimal("0.4")
    assert placed.dose_mg == Decimal("20")
