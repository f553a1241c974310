"""The at-home programme's records reach the misuse core as facts with their evidence."""

import pytest

from ketacare.clinical import misuse as core
from ketacare.errors import Refused
from ketacare.outcomes.models import SafetyAlert
from ketacare.recovery.facts import misuse_facts_for
from ketacare.recovery.services import misuse_review_refresh
from ketacare.recovery.services.common import today_of
from tests.athome.conftest import actor, enrol, key, prescribe

pytestmark = pytest.mark.django_db


def test_a_lost_dose_and_an_early_refill_are_signals_that_open_an_alert(world):
    from ketacare.athome import services as home

    # given an at-home patient who reports a lost troche and asks for a refill too early
    programme = enrol(world)
    prescribe(world, programme)
    nurse = actor(world, "nurse")
    home.supply_dispense(actor=nurse, programme_id=programme.pk, idempotency_key=key())
    home.supply_loss_report(
        actor=nurse, programme_id=programme.pk, units=1, note="dropped", idempotency_key=key()
    )
    with pytest.raises(Refused):
        home.refill_release(
            actor=actor(world, "prescriber"), programme_id=programme.pk, idempotency_key=key()
        )
    # when the facts are gathered and assessed
    facts = misuse_facts_for(patient=world.patient_a, today=today_of(nurse))
    kinds = {f.kind for f in facts.events}
    review = misuse_review_refresh(actor=nurse, patient=world.patient_a, today=today_of(nurse))
    # then both are facts, both signals, and the pair is severe with one alert
    assert {core.DOSE_LOST, core.EARLY_REFILL} <= kinds
    assert set(review.signal_ids) == {"early_refill", "lost_dose"}
    assert review.severe
    alert = SafetyAlert.objects.get(pk=review.safety_alert_id)
    assert alert.code == core.ALERT_MISUSE_SEVERE
    assert alert.severity == "same_day"


def test_an_early_refill_alone_is_no_signal(world):
    from ketacare.athome import services as home

    programme = enrol(world)
    prescribe(world, programme)
    nurse = actor(world, "nurse")
    home.supply_dispense(actor=nurse, programme_id=programme.pk, idempotency_key=key())
    with pytest.raises(Refused):
        home.refill_release(
            actor=actor(world, "prescriber"), programme_id=programme.pk, idempotency_key=key()
        )
    review = misuse_review_refresh(actor=nurse, patient=world.patient_a, today=today_of(nurse))
    assert review.signal_ids == []


@pytest.mark.parametrize(("decision", "status"), [("pause", "paused"), ("stop", "ended")])
def test_a_decision_to_pause_or_stop_holds_the_home_programme_at_once(world, decision, status):
    from ketacare.athome import services as home
    from ketacare.athome.models import HomeProgramme, ProgrammeStatusChange
    from ketacare.recovery import services

    programme = enrol(world)
    prescribe(world, programme)
    nurse = actor(world, "nurse")
    home.supply_dispense(actor=nurse, programme_id=programme.pk, idempotency_key=key())
    home.supply_loss_report(
        actor=nurse, programme_id=programme.pk, units=1, note="dropped", idempotency_key=key()
    )
    with pytest.raises(Refused):
        home.refill_release(
            actor=actor(world, "prescriber"), programme_id=programme.pk, idempotency_key=key()
        )
    services.misuse_decision_record(
        actor=actor(world, "prescriber"), patient_id=world.patient_a.pk, decision=decision,
        reason="Lost dose and early refill", idempotency_key=key(),
    )  # fmt: skip
    assert HomeProgramme.objects.get(pk=programme.pk).status == status
    change = ProgrammeStatusChange.objects.get()
    assert change.reason.startswith(f"Misuse review decision ({decision})")


def test_a_decision_to_continue_leaves_the_home_programme_running(world):
    from ketacare.athome import services as home
    from ketacare.athome.models import HomeProgramme
    from ketacare.recovery import services

    programme = enrol(world)
    prescribe(world, programme)
    nurse = actor(world, "nurse")
    home.supply_dispense(actor=nurse, programme_id=programme.pk, idempotency_key=key())
    home.supply_loss_report(
        actor=nurse, programme_id=programme.pk, units=1, note="dropped", idempotency_key=key()
    )
    services.misuse_decision_record(
        actor=actor(world, "prescriber"), patient_id=world.patient_a.pk, decision="continue",
        reason="Explained; one troche lost in the wash", idempotency_key=key(),
    )  # fmt: skip
    assert HomeProgramme.objects.get(pk=programme.pk).status == "active"
