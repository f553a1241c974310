"""A nurse signs in, finds a patient and signs out; front desk cannot see the chart."""

import pytest
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from tests.browser import sign_in
from tests.factories import ClinicFactory, PatientFactory, member

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username)


def test_a_nurse_signs_in_opens_a_patient_and_signs_out(live_server, page, shoot):
    # given
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    member(clinic, Role.NURSE, "e2e.nurse")
    patient = PatientFactory(clinic=clinic, given_name="Marta", family_name="Lindqvist")
    PatientFactory(clinic=ClinicFactory(slug="other"), given_name="Hidden", family_name="Elsewhere")
    # when she signs in
    _sign_in(page, live_server.url, "e2e.nurse")
    expect(page.get_by_test_id("active-clinic")).to_have_text("E2E Clinic")
    shoot(page, "01-home")
    # and opens the patients list
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("link", name="Lindqvist, Marta")).to_be_visible()
    expect(page.get_by_text("Elsewhere")).to_have_count(0)
    page.get_by_label("Find a patient by name or MRN").fill("Lindq")
    expect(page.get_by_role("link", name="Lindqvist, Marta")).to_be_visible()
    shoot(page, "02-patients")
    # and a patient
    page.get_by_role("link", name="Lindqvist, Marta").click()
    expect(page.get_by_test_id("patient-name")).to_have_text("Marta Lindqvist")
    expect(page.get_by_role("link", name="Edit details")).to_be_visible()
    shoot(page, "03-patient")
    # then she signs out and the chart is gone
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to KetaCare")).to_be_visible()
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(page.get_by_role("heading", name="Sign in to KetaCare")).to_be_visible()


def test_front_desk_cannot_see_what_a_nurse_sees(live_server, page, shoot):
    # given
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    member(clinic, Role.FRONT_DESK, "e2e.desk")
    PatientFactory(clinic=clinic, given_name="Marta", family_name="Lindqvist")
    # when front desk signs in and tries the nurse-only audit page
    _sign_in(page, live_server.url, "e2e.desk")
    expect(page.get_by_role("link", name="Audit trail")).to_have_count(0)
    page.goto(f"{live_server.url}/audit/")
    # then the page is refused with the reason
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("front desk role may not")
    shoot(page, "01-refused")
