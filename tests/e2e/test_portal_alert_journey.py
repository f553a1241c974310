"""A patient answers a PHQ-9 on her phone with item 9 above zero; the nurse's dashboard shows
the safety alert, she acknowledges and resolves it; the chart shows the trajectory. axe-core
checks every portal page she sees: no serious or critical violation."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from ketacare.outcomes.models import SafetyAlert, ScaleResponse
from ketacare.scheduling.models import Course
from ketacare.treatment.models import TreatmentSession
from tests.browser import sign_in
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import ClinicFactory, PatientFactory, member
from tests.outcomes.factories import assignment_row, link_for, phq9_answers, response_row
from tests.scheduling.factories import course_row

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite(monkeypatch):
    """The live server hands every request thread the same in-memory SQLite connection; pages
    that load several htmx panels at once then collide ("database table is locked"). Run one
    request at a time in that case only (PostgreSQL and SQLite files handle concurrency)."""
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


PHQ9_ANSWERS = [
    "Several days",
    "More than half the days",
    "Several days",
    "More than half the days",
    "Not at all",
    "Several days",
    "Several days",
    "Not at all",
    "Several days",  # item 9: thoughts of being better off dead or of self-harm
]


def _sign_in(page: Page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username)


def _fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_phone_phq9_with_item_nine_reaches_the_nurse_who_resolves_it(
    live_server, phone_page, page, shoot
):
    # given a clinic, a nurse, and a patient two weeks into a course with earlier scores
    clinic = ClinicFactory(slug="e2e-portal", name="Harbour Ketamine Clinic")
    clinic.crisis_resources = (
        "Call or text 988 (Suicide & Crisis Lifeline), or the clinic's after-hours line "
        "555-0199. In danger now: call 911."
    )
    clinic.save()
    staff = {
        "nurse": member(clinic, Role.NURSE, "e2e.nurse"),
        "prescriber": member(clinic, Role.PRESCRIBER, "e2e.prescriber"),
    }
    patient = PatientFactory(clinic=clinic, given_name="Ingrid", family_name="Solberg")
    course = course_row(patient, staff)
    Course.objects.filter(pk=course.pk).update(started_on=timezone.localdate() - timedelta(days=14))
    for days_ago, total in [(16, 21), (9, 15), (4, 12)]:
        response_row(patient, "phq9", phq9_answers(total), timezone.now() - timedelta(days_ago))
    for days_ago in (14, 12, 9, 7, 5, 2):  # infusions given, for the chart's session markers
        at = timezone.now() - timedelta(days=days_ago)
        TreatmentSession.objects.create(
            clinic=clinic,
            patient=patient,
            course=course,
            protocol_id=course.protocol_id,
            protocol_version=course.protocol_version,
            route=course.route,
            status="discharged",
            created_by=staff["nurse"],
            created_at=at,
            checked_in_by=staff["nurse"],
            checked_in_at=at,
            dosing_started_at=at + timedelta(minutes=20),
        )
    assignment = assignment_row(patient, "phq9")
    issued = link_for(patient, [assignment])
    path = issued.url.split("127.0.0.1:8000", 1)[1]

    # when she opens the e-mailed link on her phone
    phone = phone_page
    phone.goto(f"{live_server.url}{path}")
    expect(phone.get_by_role("heading", name="Your questionnaires")).to_be_visible()
    assert _fits_the_screen(phone)
    shoot(phone, "01-phone-portal-start")
    assert_no_serious_violations(phone, "the portal's start page")
    phone.get_by_role("link", name="Start PHQ-9").click()

    # question 1 by keyboard alone: tab into the radio group, arrow to an answer, enter
    expect(phone.get_by_text("Question 1 of 9")).to_be_visible()
    assert_no_serious_violations(phone, "a portal question")
    phone.keyboard.press("Tab")  # the skip link
    phone.keyboard.press("Tab")  # the answers
    expect(phone.get_by_label("Not at all")).to_be_focused()
    phone.keyboard.press("ArrowDown")
    expect(phone.get_by_label("Several days")).to_be_checked()
    shoot(phone, "02-keyboard-focus")
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name="Next question")).to_be_focused()
    phone.keyboard.press("Enter")

    # the rest by touch; at 200% text size the page still fits the phone
    for number, answer in enumerate(PHQ9_ANSWERS[1:], start=2):
        expect(phone.get_by_text(f"Question {number} of 9")).to_be_visible()
        if number == 9:
            phone.evaluate("document.documentElement.style.fontSize = '225%'")  # 2 x 112.5%
            expect(phone.get_by_role("group")).to_contain_text("better off dead")
            assert _fits_the_screen(phone)
            shoot(phone, "03-item-9-at-200-percent-text")
        phone.get_by_label(answer, exact=True).check()
        phone.get_by_role(
            "button", name="Next question" if number < 9 else "Check my answers"
        ).click()

    # she leaves and comes back: her answers are still there
    phone.goto(f"{live_server.url}{path}")
    expect(phone.get_by_text("9 of 9 questions answered")).to_be_visible()
    phone.get_by_role("link", name="Continue PHQ-9").click()
    expect(phone.get_by_role("heading", name="Check your PHQ-9 answers")).to_be_visible()
    shoot(phone, "04-check-answers")
    assert_no_serious_violations(phone, "the portal's answer check")
    phone.get_by_role("button", name="Send my answers").click()

    # then she sees her clinic's crisis resources, and no promise of real-time watching
    support = phone.get_by_test_id("crisis-resources")
    expect(support).to_contain_text("555-0199")
    expect(support).to_contain_text("nobody is watching them around the clock")
    shoot(phone, "05-crisis-resources")
    assert_no_serious_violations(phone, "the portal's crisis resources")
    stored = ScaleResponse.objects.filter(patient=patient, source="portal").get()
    assert stored.answers[8] == 1

    # and the nurse's dashboard shows the alert
    _sign_in(page, live_server.url, "e2e.nurse")
    expect(page.get_by_test_id("alert-banner")).to_contain_text("1 open safety alert")
    alert_card = page.get_by_test_id("home-alert")
    expect(alert_card).to_contain_text("Ingrid Solberg")
    expect(alert_card).to_contain_text("item 9")
    shoot(page, "06-nurse-dashboard-alert")

    # she acknowledges it there: it leaves the banner
    alert_card.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_test_id("home-alerts")).to_contain_text("No open safety alerts")
    page.reload()
    expect(page.get_by_test_id("alert-banner")).to_contain_text("acknowledged, awaiting resolution")

    # and resolves it with a note
    page.get_by_test_id("alert-banner").click()
    page.get_by_role("link", name="Solberg, Ingrid").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("alert-assignee")).to_contain_text("Test")
    page.get_by_label("What was done (required)").fill(
        "Called Ingrid within the hour; passive ideation, no plan. Safety plan reviewed; "
        "prescriber informed; seen before Thursday's session."
    )
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("alert-status")).to_have_text("Resolved")
    expect(page.get_by_test_id("alert-note")).to_contain_text("Safety plan reviewed")
    shoot(page, "07-alert-resolved")
    alert = SafetyAlert.objects.get(patient=patient)
    assert (alert.status, alert.acknowledged_by.username) == ("resolved", "e2e.nurse")
    expect(page.get_by_test_id("alert-banner")).to_have_count(0)

    # the chart shows the PHQ-9 trajectory with bands, baseline and the session marker
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    chart = page.get_by_test_id("trajectory-phq9")
    expect(chart).to_be_visible()
    expect(chart.locator("rect")).to_have_count(5)
    expect(chart.locator("circle")).to_have_count(4)
    expect(chart.get_by_test_id("baseline-line")).to_have_count(1)
    expect(chart.locator('line[data-kind="session"]')).to_have_count(6)
    expect(page.get_by_test_id("outcome-phq9")).to_contain_text("baseline 21")
    chart.scroll_into_view_if_needed()
    folder = shoot(page, "08-chart-with-trajectory").parent
    chart.screenshot(path=str(folder / "09-trajectory-chart.png"))
