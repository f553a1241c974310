"""The chair board at 1024×768, as a nurse with three live chairs, and each clinician's start page.

Three patients are in chairs: two infusions running and one waiting for the prescriber's order.
The session clock then moves on 70 minutes without anyone recording a reading: within one
refresh of the board (it polls every 15 seconds) the overrunning infusion and the overdue
readings show on the board and on the nurse's start page, and the order waiting for the
prescriber shows on theirs. axe-core checks the board, the start page and the session page.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from ketacare.accounts.roles import Role
from ketacare.kernel import clock
from ketacare.treatment import services
from tests.browser import clinic_daytime, sign_in
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import ClinicFactory, PatientFactory, member
from tests.scheduling.factories import ChairFactory, appointment_row
from tests.treatment.factories import Team, course_of, key, pre_check, reading, walk_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 1024, "height": 768}


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    clock.reset()
    clinic_daytime()
    yield
    clock.reset()


def _tablet(browser: Browser) -> Page:
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _sign_in(page: Page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username)  # with the authenticator code a prescriber's role needs
    expect(page.get_by_test_id("active-clinic")).to_be_visible()


def _three_live_chairs():
    clinic = ClinicFactory(slug="e2e-board", name="Harbour Ketamine Clinic")
    staff = {
        "nurse": member(clinic, Role.NURSE, "board.nurse"),
        "prescriber": member(clinic, Role.PRESCRIBER, "board.prescriber"),
    }
    team = Team.of(clinic, staff)
    sessions = []
    for n, (given, family) in enumerate(
        [("Ines", "Okafor"), ("Kai", "Moreau"), ("Lena", "Brennan")], start=1
    ):
        patient = PatientFactory(clinic=clinic, given_name=given, family_name=family)
        chair = ChairFactory(clinic=clinic, room="Room 1", label=f"Chair {n}")
        appointment = appointment_row(course_of(patient, staff), chair, clock.now())
        session = services.session_check_in(
            actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
        )
        sessions.append(session)
    # two infusions running (a 40-minute plan), one waiting for the prescriber's order
    for session in sessions[:2]:
        walk_to(team, session, "dosing")
        reading(team, session, systolic=128, diastolic=80, heart_rate=74, spo2=98)
    pre_check(team, sessions[2])
    return clinic, sessions


def test_a_nurse_sees_three_live_chairs_and_the_exceptions_within_one_refresh(
    browser: Browser, live_server, shoot
):
    # given three live chairs, all on time
    _, sessions = _three_live_chairs()
    nurse = _tablet(browser)
    _sign_in(nurse, live_server.url, "board.nurse")
    nurse.goto(f"{live_server.url}/sessions/board/")
    board = nurse.get_by_test_id("board")
    expect(board.get_by_test_id("chair-tile")).to_have_count(3)
    expect(board).to_contain_text("Ines Okafor")
    expect(board).to_contain_text("Waits for the dose order")
    assert_no_serious_violations(nurse, "the chair board")
    shoot(nurse, "01-board-on-time")
    # when 70 minutes pass and nobody records a reading or ends the infusion
    clock.travel(timedelta(minutes=70))
    # then within one refresh (15 s) the board shows the overrun and the overdue readings
    exceptions = nurse.get_by_test_id("board-exceptions")
    expect(exceptions).to_contain_text("overdue since", timeout=25_000)
    expect(exceptions).to_contain_text("Infusion overrunning")
    first_chair = board.get_by_test_id("chair-tile").filter(has_text="Ines Okafor")
    expect(first_chair.get_by_test_id("elapsed")).to_contain_text("past the plan")
    box = exceptions.bounding_box()
    assert box is not None and box["y"] < TABLET["height"], "exceptions must be in view"
    shoot(nurse, "02-board-overrun-and-overdue")
    assert_no_serious_violations(nurse, "the chair board with exceptions")
    # and on the nurse's start page
    nurse.goto(f"{live_server.url}/")
    mine = nurse.get_by_test_id("start-exceptions")
    expect(mine).to_contain_text("overdue since")
    expect(mine).to_contain_text("Infusion overrunning")
    expect(mine).to_contain_text("Ines Okafor")
    assert_no_serious_violations(nurse, "the nurse's start page")
    shoot(nurse, "03-nurse-start-page")
    # the session page keeps the current step and its alarms in view on the tablet
    nurse.goto(f"{live_server.url}/sessions/{sessions[0].pk}/")
    step = nurse.locator("#step-h")
    expect(step).to_be_visible()
    step_box = step.bounding_box()
    assert step_box is not None and step_box["y"] < TABLET["height"]
    assert_no_serious_violations(nurse, "the session page")
    shoot(nurse, "04-session-page")
    nurse.context.close()


def test_a_prescriber_sees_the_order_waiting_for_them_on_their_start_page(
    browser: Browser, live_server, shoot
):
    _three_live_chairs()
    prescriber = _tablet(browser)
    _sign_in(prescriber, live_server.url, "board.prescriber")
    mine = prescriber.get_by_test_id("start-exceptions")
    expect(mine).to_contain_text("Lena Brennan")
    expect(mine).to_contain_text("Waiting for the dose order")
    assert_no_serious_violations(prescriber, "the prescriber's start page")
    shoot(prescriber, "01-prescriber-start-page")
    prescriber.context.close()
