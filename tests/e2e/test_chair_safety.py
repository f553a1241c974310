"""Chair-side safety in real Chromium at 1024×768, a tablet on a trolley beside the chair.

An esketamine session where a prescriber tries to discharge early with a reason and is refused
with the REMS reason (no override exists); and an IV session where a heart rate of 38 raises the
alarm at the top of the session page and on Today's sessions. Screenshots land under
test-artifacts/.
"""

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect

from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.patients.models import BodyMeasurement
from ketacare.treatment import services
from ketacare.treatment.models import SessionStatus, TreatmentSession
from tests.browser import clinic_daytime
from tests.e2e.test_treatment_journey import _open_session, _sign_in
from tests.factories import TEST_PASSWORD, ClinicFactory, PatientFactory, member
from tests.ledger.support import rems_ready
from tests.scheduling.factories import ChairFactory, appointment_row, course_row
from tests.treatment.factories import Team, key, walk_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    clock.reset()
    clinic_daytime()
    yield
    clock.reset()


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def _session(protocol_id: str, route: str, stage: str):
    """A clinic, its team, and a patient's session of today walked to `stage` by the services."""
    clinic = ClinicFactory(slug=f"chair-{route}", name="Harbour Ketamine Clinic")
    staff = {
        "nurse": member(clinic, Role.NURSE, f"{route}.nurse"),
        "prescriber": member(clinic, Role.PRESCRIBER, f"{route}.prescriber"),
    }
    patient = PatientFactory(clinic=clinic, given_name="Ada", family_name="Moreno", sex="female")
    BodyMeasurement.objects.create(
        clinic=clinic,
        patient=patient,
        measured_on=clock.now().date(),
        height_cm=Decimal("168.0"),
        weight_kg=Decimal("70.0"),
        recorded_by=staff["nurse"],
    )
    course = course_row(patient, staff, protocol_id=protocol_id, route=route)
    appointment = appointment_row(
        course, ChairFactory(clinic=clinic, room="Suite A", label="Chair 3"), clock.now()
    )
    team = Team.of(clinic, staff)
    rems_ready(clinic, patient)  # the setting's REMS certification and the patient's enrolment
    session = services.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )
    return team, staff, walk_to(team, session, stage)


def test_esketamine_early_discharge_is_refused_with_the_rems_reason(
    tablet: Page, live_server, shoot
):
    # given an esketamine session whose last device was used 30 minutes ago
    team, staff, session = _session("esketamine_trd", "esketamine", "observation")
    clock.travel(timedelta(minutes=30))
    base = live_server.url
    # when the prescriber ticks every criterion and tries to discharge early
    _sign_in(tablet, base, staff["prescriber"].username)
    url = f"{base}/sessions/{session.pk}/"
    _open_session(tablet, url)
    expect(tablet.get_by_test_id("session-status")).to_have_text("Observation")
    for criterion in (
        "Sedation resolved",
        "Dissociation resolved",
        "No respiratory depression",
        "Vital signs acceptable",
        "Transport home arranged (no driving until tomorrow)",
    ):
        tablet.get_by_label(criterion).check()
    tablet.get_by_label("Clinically ready at").fill(_local_now(session))
    # no field for a reason to leave early is offered: the page says why
    expect(tablet.locator("textarea[name='override_reason']")).to_have_count(0)
    expect(tablet.get_by_test_id("no-early-discharge")).to_contain_text("No reason overrides it")
    tablet.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    tablet.get_by_role("button", name="Discharge").click()
    # then discharge is refused with the REMS reason, and the session is still observed
    refusal = tablet.get_by_role("alert").filter(has_text="Discharge refused")
    expect(refusal).to_contain_text("REMS asks for at least 2 hours")
    expect(refusal).to_contain_text("no reason overrides it")
    shoot(tablet, "01-esketamine-early-discharge-refused")
    assert TreatmentSession.objects.get(pk=session.pk).status == SessionStatus.OBSERVATION


def _local_now(session: TreatmentSession) -> str:
    from ketacare.scheduling.selectors import clinic_zone

    return clock.now().astimezone(clinic_zone(session.clinic)).strftime("%Y-%m-%dT%H:%M")


def test_a_heart_rate_of_38_alarms_at_the_top_of_the_session_and_on_todays_list(
    tablet: Page, live_server, shoot
):
    # given an IV infusion running for 10 minutes
    team, staff, session = _session("iv_induction_6x", "iv", "dosing")
    clock.travel(timedelta(minutes=10))
    base = live_server.url
    _sign_in(tablet, base, staff["nurse"].username)
    url = f"{base}/sessions/{session.pk}/"
    _open_session(tablet, url)
    # when the nurse records a heart rate of 38
    monitoring = tablet.locator("#monitoring")
    monitoring.get_by_label("Systolic", exact=True).fill("118")
    monitoring.get_by_label("Diastolic", exact=True).fill("74")
    monitoring.get_by_label("Heart rate", exact=True).fill("38")
    monitoring.get_by_label("Resp. rate").fill("14")
    monitoring.get_by_label("SpO2 %").fill("97")
    monitoring.get_by_role("button", name="Add reading").click()
    expect(tablet.get_by_test_id("reading")).to_have_count(2)
    # then the alarm is at the top of the page, above the step and the timeline
    _open_session(tablet, url)
    top = tablet.get_by_test_id("attention")
    expect(top).to_contain_text("heart rate 38/min is below 50")
    box = top.bounding_box()
    step = tablet.locator("#step").bounding_box()
    assert box is not None and step is not None and box["y"] < step["y"]
    assert box["y"] < 768, "the alarm shows without scrolling"
    shoot(tablet, "02-iv-heart-rate-38-alarm-at-the-top")
    # and on Today's sessions, on the patient's row
    tablet.goto(f"{base}/sessions/")
    row = tablet.get_by_test_id("row-attention")
    expect(row).to_contain_text("heart rate 38/min is below 50")
    shoot(tablet, "03-todays-sessions-show-the-alarm")
