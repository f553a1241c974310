"""At home on a 390×844 phone: a patient and her sitter pass the gate, she takes the dose and
fills the tracker; the next dose stays locked until the tracker is in; a BP of 172/98 blocks a
dose and raises an alert the clinician sees; a refill is refused before the follow-up visit and,
after it, while one dose is unaccounted for. Counts the patient's taps per dose."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from ketacare.athome import services
from ketacare.athome.models import HomeDose, RefillDecision
from ketacare.kernel import clock
from ketacare.outcomes.models import SafetyAlert
from tests.athome.conftest import actor, enrol, key, prescribe
from tests.browser import sign_in
from tests.e2e.axe import axe_violations
from tests.factories import PatientFactory, member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite(monkeypatch):
    """As in the portal journey: in-memory SQLite serves one request at a time."""
    from django.core.servers.basehttp import ServerHandler
    from django.db import connection

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return
    lock = threading.Lock()
    original = ServerHandler.run

    def one_at_a_time(self, application):
        with lock:
            return original(self, application)

    monkeypatch.setattr(ServerHandler, "run", one_at_a_time)


class Taps:
    """Counts the patient's taps (clicks and checks) on her phone."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def click(self, locator) -> None:
        self.count += 1
        locator.click()

    def check(self, locator) -> None:
        self.count += 1
        locator.check()

    def fill(self, locator, value: str) -> None:
        self.count += 1  # one tap into the field, then typing
        locator.fill(value)


def _fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _gate(phone: Page, taps: Taps, systolic: str, diastolic: str, heart_rate: str) -> None:
    taps.fill(phone.get_by_label("Top number (systolic)"), systolic)
    taps.fill(phone.get_by_label("Bottom number (diastolic)"), diastolic)
    taps.fill(phone.get_by_label("Heart rate (pulse)"), heart_rate)
    for group in phone.locator("fieldset.yes-no").all():
        taps.check(group.get_by_label("Yes", exact=True))
    taps.click(phone.get_by_role("button", name="Check"))


def _tracker(phone: Page, taps: Taps) -> None:
    answers = ["Moderate", "Mild", "None", "A bit better", "No", "No", "No", "Yes"]
    for group, answer in zip(phone.locator("form fieldset").all(), answers, strict=True):
        taps.check(group.get_by_label(answer, exact=True))
    taps.click(phone.get_by_role("button", name="Send"))


def test_a_home_dose_walked_on_a_phone_with_its_gate_tracker_alert_and_refills(
    live_server, phone_page, browser, page, shoot, world
):
    # given a clinic's prescriber and nurse, and an enrolled patient with four troches at home
    clinic = world.clinic_a
    member(clinic, Role.NURSE, "e2e.home.nurse")
    member(clinic, Role.PRESCRIBER, "e2e.home.prescriber")
    patient = PatientFactory(clinic=clinic, given_name="Maya", family_name="Okafor")
    programme = enrol(world, patient)
    prescribe(world, programme)
    services.supply_dispense(
        actor=actor(world, "nurse"), programme_id=programme.pk, idempotency_key=key()
    )
    patient_link, sitter_link = services.programme_links_issue(
        actor=actor(world, "nurse"), programme_id=programme.pk
    )
    sitter_context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    sitter = sitter_context.new_page()
    phone, taps = phone_page, Taps(phone_page)
    home = f"{live_server.url}/portal/{patient_link.token}/"
    sitter_home = f"{live_server.url}/portal/{sitter_link.token}/"

    # when Maya opens her link and starts today's dose
    phone.goto(home)
    expect(phone.get_by_role("heading", name="Your home dose")).to_be_visible()
    assert _fits(phone)
    assert axe_violations(phone) == []
    shoot(phone, "01-start")
    taps.click(phone.get_by_test_id("start-dose"))
    expect(phone.get_by_test_id("sitter-waiting")).to_be_visible()
    # her sitter confirms on his own phone, with his own link
    sitter.goto(sitter_home)
    sitter.get_by_test_id("attest").click()
    expect(sitter.get_by_test_id("attested")).to_be_visible()
    shoot(sitter, "02-sitter-attested")
    taps.click(phone.get_by_role("link", name="I've asked: check again"))
    expect(phone.get_by_test_id("sitter-ok")).to_be_visible()
    assert axe_violations(phone) == []
    _gate(phone, taps, "128", "80", "74")
    expect(phone.get_by_test_id("dose-to-take")).to_contain_text("50 mg")
    shoot(phone, "03-dose-to-take")
    taps.click(phone.get_by_test_id("taken"))
    expect(phone.get_by_test_id("timer")).to_contain_text("Session timer")
    shoot(phone, "04-timer-and-tracker")
    gate_to_tracker_taps = taps.count

    # the next dose stays locked until the tracker is in, a week later too
    clock.travel(timedelta(days=7))
    phone.goto(home)
    expect(phone.get_by_test_id("timer")).to_be_visible()  # back to the tracker, not a new dose
    _tracker(phone, taps)
    expect(phone.get_by_test_id("start-dose")).to_be_visible()
    taps_per_dose = taps.count
    assert HomeDose.objects.get(patient=patient).status == "tracked"

    # a second dose; then, a week on, a BP of 172/98 blocks the third and raises an alert
    phone.get_by_test_id("start-dose").click()
    sitter.goto(sitter_home)
    sitter.get_by_test_id("attest").click()
    phone.get_by_role("link", name="I've asked: check again").click()
    _gate(phone, taps, "126", "82", "70")
    phone.get_by_test_id("taken").click()
    _tracker(phone, taps)
    clock.travel(timedelta(days=7))
    phone.goto(home)
    phone.get_by_test_id("start-dose").click()
    sitter.goto(sitter_home)
    sitter.get_by_test_id("attest").click()
    phone.get_by_role("link", name="I've asked: check again").click()
    _gate(phone, taps, "172", "98", "88")
    expect(phone.get_by_test_id("dose-blocked")).to_contain_text("The clinic will call you")
    assert _fits(phone)
    shoot(phone, "05-bp-172-98-blocked")
    assert SafetyAlert.objects.get(patient=patient).code == "home_bp_above_limit"

    # the clinician sees the alert and the board
    sign_in(page, live_server.url, "e2e.home.nurse")
    expect(page.get_by_test_id("alert-banner")).to_contain_text("1 open safety alert")
    page.goto(f"{live_server.url}/athome/")
    row = page.get_by_test_id("athome-row").filter(has_text="Maya Okafor")
    expect(row.get_by_test_id("athome-bp")).to_have_text("172/98")
    expect(row.get_by_test_id("athome-supply")).to_have_text("2")
    expect(row.get_by_test_id("athome-flags")).to_contain_text("1")
    shoot(page, "06-programme-board")

    # a refill is refused before the follow-up visit ...
    prescriber = browser.new_context(viewport={"width": 1180, "height": 820}).new_page()
    sign_in(prescriber, live_server.url, "e2e.home.prescriber")
    prescriber.goto(f"{live_server.url}/athome/programmes/{programme.pk}/")
    prescriber.get_by_role("button", name="Release a refill").click()
    expect(prescriber.get_by_text("Refill refused")).to_be_visible()
    expect(prescriber.get_by_test_id("refill-decision").first).to_contain_text(
        "refill_review_missing"
    )
    # ... and after it, when one dose is unaccounted for (2 left, 1 counted)
    clock.travel(timedelta(days=17))
    prescriber.reload()
    prescriber.get_by_label("Units counted at home").fill("1")
    prescriber.get_by_label("Modality").select_option("audio_video")
    prescriber.get_by_label("Visit note").fill(
        "30-day review by video; one troche cannot be found."
    )
    prescriber.get_by_role("button", name="Record review").click()
    prescriber.get_by_role("button", name="Release a refill").click()
    expect(prescriber.get_by_text("1 unaccounted for")).to_be_visible()
    shoot(prescriber, "07-refill-refused-unaccounted")
    codes = [d.refused_codes for d in RefillDecision.objects.order_by("id")]
    assert codes[0][0] == "refill_review_missing"
    assert codes[-1] == ["refill_unreconciled"]
    sitter_context.close()

    # the note's figure: the patient's taps for one dose, gate to tracker
    print(f"\nPatient taps per dose: {taps_per_dose} ({gate_to_tracker_taps} to take it)")
    assert taps_per_dose == 19
