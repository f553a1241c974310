"""A new patient fills in the intake forms on her phone (390×844) before the first visit; the
nurse reviews them beside the chart and accepts the parts that are right. axe-core checks the
portal's intake pages and the review page: no serious or critical violation."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from ketacare.patients.models import ChartSection, IntakeSubmission
from tests.browser import sign_in
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import ClinicFactory, PatientFactory, member
from tests.outcomes.factories import link_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _one_request_at_a_time_on_in_memory_sqlite(monkeypatch):
    """In-memory SQLite shares one connection between the live server's threads: serialise."""
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


def _fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_patient_fills_in_the_intake_forms_on_her_phone_and_the_nurse_accepts_them(
    live_server, phone_page, page, shoot
):
    # given a new patient with an intake link
    clinic = ClinicFactory(slug="e2e-intake", name="Harbour Ketamine Clinic")
    member(clinic, Role.NURSE, "e2e.intake.nurse")
    patient = PatientFactory(clinic=clinic, given_name="Rosa", family_name="Delgado")
    issued = link_for(patient, purpose="intake", expires_at=timezone.now() + timedelta(days=14))
    path = issued.url.split("127.0.0.1:8000", 1)[1]

    # when she opens it on her phone
    phone = phone_page
    phone.goto(f"{live_server.url}{path}")
    expect(phone.get_by_role("heading", name="Before your first visit")).to_be_visible()
    assert _fits_the_screen(phone)
    assert_no_serious_violations(phone, "the portal's intake forms")
    shoot(phone, "01-intake-forms")

    # and fills them in by touch
    phone.get_by_label("Your phone number").fill("(555) 010-2233")
    phone.get_by_label("Name", exact=True).fill("Maya Castillo")
    phone.get_by_label("How they are related to you").fill("Sister")
    phone.get_by_label("Their phone number").fill("555 010 9988")
    phone.get_by_label("Aortic aneurysm").check()
    phone.get_by_label("Medicine 1").fill("Zoloft")
    phone.get_by_label("Dose").first.fill("50 mg")
    phone.get_by_label("Medicine 2").fill("Grandma's sleep tea pills")
    phone.get_by_label("I have no known allergies").check()
    assert _fits_the_screen(phone)
    shoot(phone, "02-filled-in")
    phone.get_by_role("button", name="Send to my care team").click()

    # then she is thanked, and nothing is in the chart yet
    expect(phone.get_by_role("heading", name="Thank you. Your forms were sent.")).to_be_visible()
    assert_no_serious_violations(phone, "the portal's intake thank-you page")
    shoot(phone, "03-sent")
    submission = IntakeSubmission.objects.get(patient=patient)
    assert not ChartSection.objects.filter(patient=patient).exists()

    # the nurse sees the forms waiting on the chart, the unknown medicine flagged
    sign_in(page, live_server.url, "e2e.intake.nurse")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_test_id("intake-forms-waiting").get_by_role("link").click()
    expect(page.get_by_test_id("needs-review")).to_contain_text("grandma's sleep tea pills")
    expect(page.get_by_test_id("medicine-reading").first).to_contain_text("sertraline")
    assert_no_serious_violations(page, "the intake review page")
    shoot(page, "04-review")

    # and accepts the medicines and allergies only
    page.get_by_label("Accept current medicines into the chart").check()
    page.get_by_label("Accept allergies into the chart").check()
    page.get_by_role("button", name="Accept the checked parts").click()
    expect(page.get_by_text("Accepted into the chart")).to_be_visible()
    shoot(page, "05-accepted")
    submission.refresh_from_db()
    assert submission.status == "accepted"
    assert set(ChartSection.objects.filter(patient=patient).values_list("section", flat=True)) == {
        "medicines",
        "allergies",
    }
