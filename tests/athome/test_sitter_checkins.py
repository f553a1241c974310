"""The sitter's check-ins during a home session: from their own link only, while the session
runs, all well or worried; a worry opens an immediate safety alert the clinic sees, and the
programme page shows every check-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from ketacare.athome import services
from ketacare.athome.models import SitterCheckIn
from ketacare.errors import Refused
from ketacare.outcomes.models import SafetyAlert
from tests.athome.conftest import actor, take_a_dose

pytestmark = pytest.mark.django_db


def _refused(call):
    with pytest.raises(Refused) as caught:
        call()
    return caught.value


def test_all_is_well_is_recorded_and_opens_no_alert(home):
    dose = take_a_dose(home, tracker=None)
    checkin = services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=True)
    assert checkin.well and checkin.dose_id == dose.pk
    assert not SafetyAlert.objects.exists()


def test_a_worried_sitter_opens_an_immediate_alert_with_the_note(home):
    dose = take_a_dose(home, tracker=None)
    services.home_dose_sitter_checkin(
        link=home.sitter_link, dose_id=dose.pk, well=False, note="Very drowsy, slurring"
    )
    alert = SafetyAlert.objects.get()
    assert alert.code == "home_sitter_concern"
    # (its urgency, immediate, is the core's: tests/clinical/test_athome.py)
    assert "Very drowsy" in alert.meaning and alert.patient_id == dose.patient_id


def test_only_the_sitters_link_checks_in(home):
    dose = take_a_dose(home, tracker=None)
    error = _refused(
        lambda: services.home_dose_sitter_checkin(
            link=home.patient_link, dose_id=dose.pk, well=True
        )
    )
    assert error.code == "wrong_link"


def test_a_sitter_cannot_check_in_on_another_patients_dose(world, home):
    from tests.athome.conftest import enrol, prescribe
    from tests.factories import PatientFactory

    other = enrol(world, PatientFactory(clinic=world.clinic_a))
    prescribe(world, other)
    services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=other.pk, idempotency_key="fill-other-01"
    )
    links = services.programme_links_issue(actor=actor(world, "nurse"), programme_id=other.pk)
    from tests.athome.conftest import Home

    their_dose = take_a_dose(Home(other, links[0].link, links[1].link), tracker=None)
    error = _refused(
        lambda: services.home_dose_sitter_checkin(
            link=home.sitter_link, dose_id=their_dose.pk, well=True
        )
    )
    assert error.code == "dose_of_another_patient"


def test_no_check_in_before_the_dose_is_taken_or_after_the_session(home, session_clock):
    dose = services.home_dose_open(link=home.patient_link)
    error = _refused(
        lambda: services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=True)
    )
    assert error.code == "sitter_checkin_not_in_session"
    services.home_dose_sitter_attest(link=home.sitter_link, dose_id=dose.pk)
    from tests.athome.conftest import GOOD_GATE

    services.home_dose_gate(link=home.patient_link, dose_id=dose.pk, **GOOD_GATE)
    services.home_dose_take(link=home.patient_link, dose_id=dose.pk)
    session_clock.travel(timedelta(minutes=61))
    error = _refused(
        lambda: services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=True)
    )
    assert error.code == "sitter_checkin_not_in_session"
    assert not SitterCheckIn.objects.exists()


def test_a_check_in_needs_an_answer(home):
    dose = take_a_dose(home, tracker=None)
    error = _refused(
        lambda: services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=None)
    )
    assert (error.code, error.field) == ("sitter_checkin_unanswered", "well")


def test_a_check_in_is_never_rewritten(home):
    from ketacare.audit.models import AppendOnlyError

    dose = take_a_dose(home, tracker=None)
    checkin = services.home_dose_sitter_checkin(link=home.sitter_link, dose_id=dose.pk, well=True)
    checkin.well = False
    with pytest.raises(AppendOnlyError):
        checkin.save()


def test_the_sitters_phone_shows_the_next_check_in_and_sends_a_worry(world, home, session_clock):
    dose = take_a_dose(home, tracker=None)
    sitter = Client()
    url = f"/portal/{_token(world, home)}/home/"
    page = sitter.get(url).content.decode()
    assert 'data-testid="checkin-form"' in page and "Next check-in at" in page
    session_clock.travel(timedelta(minutes=25))
    assert "check in now" in sitter.get(url).content.decode()
    sitter.post(f"{url}{dose.pk}/checkin/", {"answer": "worried", "note": "Not answering"})
    assert SafetyAlert.objects.get().code == "home_sitter_concern"
    page = sitter.get(url).content.decode()
    assert "worried (Not answering)" in page
    # and the clinic sees it on the programme page
    staff = world.web(world.staff["nurse"]).get(f"/athome/programmes/{home.programme.pk}/")
    assert "<strong>worried</strong>" in staff.content.decode()


def test_a_check_in_without_an_answer_from_the_phone_is_refused(world, home):
    dose = take_a_dose(home, tracker=None)
    url = f"/portal/{_token(world, home)}/home/"
    answer = Client().post(f"{url}{dose.pk}/checkin/", {"answer": "maybe"})
    assert answer.status_code == 422
    assert not SitterCheckIn.objects.exists()


def _token(world, home):
    """A fresh sitter link's token (tokens are shown once and never stored)."""
    from ketacare.outcomes.models import PortalLinkPurpose

    _, sitter = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=home.programme.pk
    )
    assert sitter.link.purpose == PortalLinkPurpose.SITTER
    return sitter.token
