"""In Chromium: a prescriber starts a course; the front desk books a session from a free slot."""

import pytest
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from ketacare.scheduling.models import Appointment, Course
from tests.browser import sign_in
from tests.factories import ClinicFactory, PatientFactory, member
from tests.scheduling.factories import ChairFactory, next_monday, ready_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username)


def test_a_course_is_previewed_started_and_then_extended_from_the_calendar(
    live_server, page, shoot
):
    # given a patient screened and consented for IV, and two chairs
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    staff = {r.value: member(clinic, r, f"e2e.{r.value}") for r in Role}
    patient = PatientFactory(clinic=clinic, given_name="Marta", family_name="Lindqvist")
    ready_for(patient, staff)
    chair = ChairFactory(clinic=clinic, room="Cedar", label="Chair 1")
    ChairFactory(clinic=clinic, room="Cedar", label="Chair 2")
    monday = next_monday(clinic)
    # when the prescriber previews a six-infusion course
    _sign_in(page, live_server.url, "e2e.prescriber")
    page.goto(f"{live_server.url}/schedule/patients/{patient.pk}/courses/new/")
    page.get_by_label("Protocol").select_option("iv_induction_6x")
    page.get_by_label("Start on").fill(monday.isoformat())
    page.get_by_label("Time of day").fill("09:00")
    page.get_by_label("Chair").select_option(str(chair.pk))
    page.get_by_role("button", name="Preview sessions").click()
    expect(page.get_by_test_id("proposal").locator("li")).to_have_count(6)
    shoot(page, "01-preview")
    # and starts it
    page.get_by_role("button", name="Start and book all sessions").click()
    expect(page.get_by_test_id("course-status")).to_have_text("Active")
    shoot(page, "02-course")
    assert Course.objects.get().appointments.count() == 6
    # then the front desk sees the sessions on the day view and books a consultation from a slot
    page.get_by_role("button", name="Sign out").click()
    _sign_in(page, live_server.url, "e2e.front_desk")
    page.goto(f"{live_server.url}/schedule/?date={monday.isoformat()}")
    expect(page.get_by_role("link", name="ML")).to_be_visible()
    shoot(page, "03-day")
    page.get_by_role("button", name="Book Cedar · Chair 2 at 11:00").click()
    form = page.get_by_test_id("booking-form")
    expect(form).to_be_visible()
    form.get_by_label("Patient MRN").fill(patient.mrn)
    form.get_by_label("Kind").select_option("consult")
    shoot(page, "04-booking-form")
    form.get_by_role("button", name="Book").click()
    expect(page.get_by_role("status")).to_contain_text("Booked ML · Consultation")
    shoot(page, "05-booked")
    assert Appointment.objects.filter(kind="consult", chair__label="Chair 2").count() == 1
    # and opens it: check-in waits for the day, rescheduling and cancelling are offered
    page.get_by_role("link", name="Consultation").click()
    expect(page.get_by_test_id("appointment-status")).to_have_text("Booked")
    expect(page.get_by_role("button", name="Check in")).to_have_count(0)
    expect(page.get_by_role("button", name="Move")).to_be_visible()
    shoot(page, "06-appointment")
    page.go_back()
    # and the week view shows the capacity
    page.get_by_role("link", name="Week").click()
    expect(page.get_by_text("1/2").first).to_be_visible()
    shoot(page, "07-week")


def test_the_day_view_scrolls_sideways_on_a_phone(live_server, phone_page, shoot):
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    member(clinic, Role.FRONT_DESK, "e2e.desk")
    for n in range(6):
        ChairFactory(clinic=clinic, room="Cedar", label=f"Chair {n + 1}")
    _sign_in(phone_page, live_server.url, "e2e.desk")
    phone_page.goto(f"{live_server.url}/schedule/?date={next_monday(clinic).isoformat()}")
    expect(phone_page.get_by_role("table")).to_be_visible()
    # the page itself does not scroll sideways: the grid does, inside its frame
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    shoot(phone_page, "01-phone-day")
