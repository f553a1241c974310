"""The chart in Chromium: who sees what, the intake saved as you go, and two-prescriber signing."""

import pytest
from playwright.sync_api import Page, expect

from ketacare.accounts.roles import Role
from ketacare.patients.models import ChartSection
from ketacare.screening.models import Screening
from tests.browser import sign_in
from tests.factories import TEST_PASSWORD, ClinicFactory, PatientFactory, member
from tests.patients.factories import chart_for, complete_chart, eligible_chart

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base_url: str, username: str) -> None:
    sign_in(page, base_url, username)
    expect(page.get_by_test_id("active-clinic")).to_be_visible()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_a_nurse_sees_diagnoses_and_medicines_and_front_desk_does_not(live_server, page, shoot):
    # given a patient with a complete chart
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    nurse = member(clinic, Role.NURSE, "e2e.nurse")
    member(clinic, Role.FRONT_DESK, "e2e.desk")
    patient = PatientFactory(clinic=clinic, given_name="Marta", family_name="Lindqvist")
    complete_chart(patient, nurse)
    url = f"{live_server.url}/patients/{patient.pk}/"
    # when the nurse opens the patient
    _sign_in(page, live_server.url, "e2e.nurse")
    page.goto(url)
    # then she sees the clinical chart
    expect(page.get_by_test_id("chart-diagnoses")).to_contain_text("F33.1")
    expect(page.get_by_test_id("chart-medicines")).to_contain_text("sertraline")
    expect(page.get_by_test_id("allergy-banner")).to_contain_text("No known allergies")
    shoot(page, "01-nurse-sees-the-chart")
    _sign_out(page)
    # when front desk opens the same patient
    _sign_in(page, live_server.url, "e2e.desk")
    page.goto(url)
    # then demographics and the escort show, and nothing clinical
    expect(page.get_by_test_id("patient-name")).to_have_text("Marta Lindqvist")
    expect(page.get_by_role("heading", name="Contacts and escort")).to_be_visible()
    expect(page.get_by_test_id("chart-diagnoses")).to_have_count(0)
    expect(page.get_by_test_id("chart-medicines")).to_have_count(0)
    expect(page.get_by_test_id("allergy-banner")).to_have_count(0)
    expect(page.get_by_text("sertraline")).to_have_count(0)
    expect(page.get_by_text("F33.1")).to_have_count(0)
    shoot(page, "02-front-desk-sees-contacts-only")
    # and the chart's own pages refuse her
    page.goto(f"{url}intake/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_the_intake_saves_each_step_as_you_go_and_resumes_where_you_left(live_server, page, shoot):
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    nurse = member(clinic, Role.NURSE, "e2e.nurse")
    patient = PatientFactory(clinic=clinic, given_name="Omar", family_name="Haddad", sex="male")
    chart_for(patient, nurse, {"contact": eligible_chart()["contact"]})
    _sign_in(page, live_server.url, "e2e.nurse")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.get_by_role("link", name="Start intake").click()
    # the intake opens at the first step still to do
    expect(page.get_by_role("heading", name="Height and weight")).to_be_visible()
    page.get_by_label("Weight (kg)").fill("82.5")
    page.get_by_label("Height (cm)").fill("181")
    page.get_by_role("button", name="Save and continue").click()
    # saved without leaving the page, on to the next step
    expect(page.get_by_role("status")).to_contain_text("Height and weight saved.")
    expect(page.get_by_role("heading", name="Diagnoses", exact=True)).to_be_visible()
    expect(page.get_by_test_id("intake-progress")).to_have_text("4 of 12 done")
    page.get_by_label("ICD-10 code, row 1").fill("f331")
    page.get_by_label("Description, row 1").fill("Major depressive disorder, recurrent, moderate")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Psychiatric history")).to_be_visible()
    shoot(page, "01-diagnoses-saved")
    # an empty list is not 'none': it must be said
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert").first).to_contain_text("none known")
    page.get_by_label("None of these, and no other history").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("heading", name="Medical history")).to_be_visible()
    assert page.url.endswith("?step=medical_history")
    # when she comes back later, the intake resumes at the next step to do
    page.goto(f"{live_server.url}/patients/{patient.pk}/intake/")
    expect(page.get_by_role("heading", name="Medical history")).to_be_visible()
    shoot(page, "02-resumed")
    assert ChartSection.objects.get(section="diagnoses").data["items"][0]["icd10"] == "F33.1"


def test_an_ineligible_screening_needs_a_reason_and_a_second_prescriber(live_server, page, shoot):
    clinic = ClinicFactory(slug="e2e", name="E2E Clinic")
    nurse = member(clinic, Role.NURSE, "e2e.nurse")
    member(clinic, Role.PRESCRIBER, "e2e.first")
    member(clinic, Role.PRESCRIBER, "e2e.second")
    patient = PatientFactory(clinic=clinic, given_name="Rosa", family_name="Brennan")
    complete_chart(patient, nurse, medicines={"items": [{"generic_name": "theophylline"}]})
    # the nurse runs the screening
    _sign_in(page, live_server.url, "e2e.nurse")
    page.goto(f"{live_server.url}/screening/patients/{patient.pk}/")
    page.get_by_label("Screen the chart for").select_option("iv_induction_6x")
    page.get_by_role("button", name="Run screening").click()
    expect(page.get_by_test_id("screening-status")).to_have_text("Ineligible")
    expect(page.locator('[data-rule="theophylline_aminophylline"]')).to_contain_text("KETALAR")
    shoot(page, "01-ineligible-result")
    screening_url = page.url
    _sign_out(page)
    # the first prescriber signs with a reason; it still does not allow treatment
    _sign_in(page, live_server.url, "e2e.first")
    page.goto(screening_url)
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign screening").click()
    expect(page.get_by_role("alert").first).to_contain_text("documented reason")
    page.get_by_label("Your reason for going forward (required)").fill(
        "Theophylline stopped last week by respiratory; level to be confirmed before dosing."
    )
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign screening").click()
    expect(page.get_by_test_id("allows-treatment")).to_contain_text("co-signature")
    expect(page.get_by_text("a different prescriber must co-sign")).to_be_visible()
    shoot(page, "02-signed-awaiting-cosignature")
    _sign_out(page)
    # the second prescriber co-signs
    _sign_in(page, live_server.url, "e2e.second")
    page.goto(screening_url)
    page.locator("input[name=signing_secret]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Co-sign as second prescriber").click()
    expect(page.get_by_test_id("allows-treatment")).to_contain_text("Allows treatment")
    shoot(page, "03-cosigned")
    screening = Screening.objects.get()
    assert screening.signed_by.username == "e2e.first"
    assert screening.cosigned_by.username == "e2e.second"
