"""Chart pages: the patient page by role, the intake saved step by step, history, budgets."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketacare.patients.models import BodyMeasurement, ChartSection, IntakeStatus
from tests.patients.factories import (
    BodyMeasurementFactory,
    chart_for,
    complete_chart,
    eligible_chart,
)
from tests.screening.factories import ScreeningFactory

pytestmark = pytest.mark.django_db

# The patient page: session, user, memberships, tenancy guard, patient, chart sections, latest
# height and weight, measurements, screenings, consent signatures and versions, the audit append
# (savepoint, chain head, insert, head update, release) and the session save; plus whatever
# panels other apps include in the page, which must be as flat as these.
PATIENT_PAGE_BUDGET = 30


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _lots_of_chart(patient, user, rows):
    data = eligible_chart()
    data["diagnoses"]["items"] *= rows
    data["medicines"]["items"] = [{"generic_name": f"drug{n}"} for n in range(rows)]
    chart_for(patient, user, data)
    for n in range(rows):
        BodyMeasurementFactory(
            patient=patient, recorded_by=user, measured_on=date(2024, 1, 1) + timedelta(days=n)
        )
        ScreeningFactory(patient=patient, run_by=user)


def test_the_patient_page_makes_the_same_queries_with_one_row_or_many(world):
    client = world.web(world.staff["nurse"])
    url = f"/patients/{world.patient_a.pk}/"
    _lots_of_chart(world.patient_a, world.staff["nurse"], 1)
    client.get(url)  # the clinic's audit chain now exists
    one = _count(client, url)
    _lots_of_chart(world.patient_a, world.staff["nurse"], 25)
    many = _count(client, url)
    assert one == many
    assert many <= PATIENT_PAGE_BUDGET


def test_a_nurse_sees_the_clinical_chart_and_front_desk_only_contacts(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    url = f"/patients/{world.patient_a.pk}/"
    nurse_page = world.web(world.staff["nurse"]).get(url).content.decode()
    desk_page = world.web(world.staff["front_desk"]).get(url).content.decode()
    for clinical in ("F33.1", "sertraline", "Baseline vital signs", "Allergies:"):
        assert clinical in nurse_page
        assert clinical not in desk_page
    assert "Sam Example" in desk_page  # the escort and emergency contact


def test_the_intake_opens_at_the_first_step_still_to_do(world):
    chart_for(world.patient_a, world.staff["nurse"], {"contact": eligible_chart()["contact"]})
    response = world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/intake/")
    assert response.context["step"] == "measurements"
    assert b"2 of 12 done" in response.content


def _post_step(client, patient, step, data, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        f"/patients/{patient.pk}/intake/?step={step}", {"step": step, **data}, headers=headers
    )


ROWS = {"items-TOTAL_FORMS": "3", "items-INITIAL_FORMS": "0"}
# What a browser sends for the blank allergy rows: their selects at the default.
BLANK_ALLERGY_ROWS = {"items-1-severity": "unknown", "items-2-severity": "unknown"}


def test_a_section_saved_through_htmx_returns_the_next_step_and_progress(world):
    client = world.web(world.staff["nurse"])
    response = _post_step(
        client,
        world.patient_a,
        "allergies",
        {
            **ROWS,
            "version": "0",
            "items-0-substance": "Latex",
            "items-0-severity": "severe",
            # the browser sends the blank rows' selects at their defaults
            "items-1-severity": "unknown",
            "items-2-severity": "unknown",
        },
        htmx=True,
    )
    assert response.status_code == 200
    assert b"<html" not in response.content  # only the panel
    assert response.context["step"] == "medicines"
    assert response["HX-Push-Url"].endswith("?step=medicines")
    assert b"Allergies saved." in response.content
    row = ChartSection.objects.get(section="allergies")
    assert row.data["items"] == [{"substance": "Latex", "reaction": "", "severity": "severe"}]
    world.patient_a.refresh_from_db()
    assert world.patient_a.intake_status == IntakeStatus.IN_PROGRESS


def test_without_htmx_a_saved_step_redirects_to_the_next(world):
    client = world.web(world.staff["nurse"])
    response = _post_step(
        client, world.patient_a, "substance_use", {**ROWS, "version": "0", "none_known": "on"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?step=pregnancy")


def test_an_empty_list_without_none_known_is_refused_with_the_reason(world):
    client = world.web(world.staff["nurse"])
    response = _post_step(client, world.patient_a, "medicines", {**ROWS, "version": "0"})
    assert response.status_code == 422
    assert b"none known" in response.content
    assert not ChartSection.objects.exists()
    htmx = _post_step(client, world.patient_a, "medicines", {**ROWS, "version": "0"}, htmx=True)
    assert htmx.status_code == 200 and b"none known" in htmx.content


def test_a_stale_intake_form_is_refused_not_overwritten(world):
    chart_for(world.patient_a, world.staff["nurse"], {"allergies": {"none_known": True}})
    client = world.web(world.staff["nurse"])
    response = _post_step(
        client,
        world.patient_a,
        "allergies",
        {
            **ROWS,
            **BLANK_ALLERGY_ROWS,
            "version": "0",
            "items-0-substance": "latex",
            "items-0-severity": "mild",
        },
    )
    assert response.status_code == 409
    assert b"recorded by someone else" in response.content
    assert ChartSection.objects.get(section="allergies").data["none_known"] is True


def test_trials_vitals_and_pregnancy_forms_save_what_the_engine_reads(world):
    client = world.web(world.staff["nurse"])
    trials = {
        **ROWS,
        "version": "0",
        "items-0-drug": "Sertraline",
        "items-0-dose_mg": "150",
        "items-0-adequate_dose": "yes",
        "items-0-weeks": "8",
        "items-0-outcome": "no_response",
        "items-0-current_episode": "",
    }
    assert _post_step(client, world.patient_a, "antidepressant_trials", trials).status_code == 302
    vitals = {
        "version": "0",
        "measured_at": "2025-03-01T09:30",
        "systolic_mmhg": "128",
        "diastolic_mmhg": "82",
    }
    assert _post_step(client, world.patient_a, "baseline_vitals", vitals).status_code == 302
    pregnancy = {"version": "0", "pregnant": "no", "breastfeeding": ""}
    assert _post_step(client, world.patient_a, "pregnancy", pregnancy).status_code == 302
    sections = {row.section: row.data for row in ChartSection.objects.all()}
    trial = sections["antidepressant_trials"]["items"][0]
    assert (trial["drug"], trial["adequate_dose"], trial["current_episode"]) == (
        "sertraline",
        True,
        None,
    )
    # the clinic is in New York: 09:30 there is 14:30 UTC in March
    assert sections["baseline_vitals"]["measured_at"].startswith("2025-03-01T14:30")
    assert (sections["pregnancy"]["pregnant"], sections["pregnancy"]["breastfeeding"]) == (
        False,
        None,
    )


def test_the_measurements_and_demographics_steps_use_their_own_forms(world):
    client = world.web(world.staff["nurse"])
    response = _post_step(
        client, world.patient_a, "measurements", {"measured_on": "2025-01-01", "weight_kg": "72.4"}
    )
    assert response.status_code == 302
    assert BodyMeasurement.objects.get().weight_kg == Decimal("72.4")
    demographics = {
        "given_name": "Ada",
        "family_name": "Quill",
        "preferred_name": "",
        "date_of_birth": "1980-05-17",
        "sex": "female",
        "email": "",
        "phone": "",
        "version": world.patient_a.version,
    }
    assert _post_step(client, world.patient_a, "demographics", demographics).status_code == 302
    world.patient_a.refresh_from_db()
    assert world.patient_a.family_name == "Quill"


def test_finishing_the_intake_is_refused_until_every_step_is_done(world):
    client = world.web(world.staff["nurse"])
    response = client.post(f"/patients/{world.patient_a.pk}/intake/finish/", follow=True)
    assert b"not complete yet" in response.content
    complete_chart(world.patient_a, world.staff["nurse"])
    client.post(f"/patients/{world.patient_a.pk}/intake/finish/")
    world.patient_a.refresh_from_db()
    assert world.patient_a.intake_status == IntakeStatus.COMPLETE


def test_the_intake_page_has_a_fixed_query_budget(world):
    client = world.web(world.staff["nurse"])
    url = f"/patients/{world.patient_a.pk}/intake/?step=medicines"
    _lots_of_chart(world.patient_a, world.staff["nurse"], 1)
    client.get(url)
    one = _count(client, url)
    _lots_of_chart(world.patient_a, world.staff["nurse"], 25)
    assert _count(client, url) == one <= 20


def test_front_desk_edits_contacts_on_their_own_page(world):
    client = world.web(world.staff["front_desk"])
    data = dict(eligible_chart()["contact"])
    response = client.post(f"/patients/{world.patient_a.pk}/contact/", {**data, "version": "0"})
    assert response.status_code == 302
    assert ChartSection.objects.get(section="contact").updated_by == world.staff["front_desk"]
    missing = client.post(f"/patients/{world.patient_a.pk}/contact/", {"version": "1"})
    assert missing.status_code == 422


def test_the_history_page_shows_who_changed_what_with_a_fixed_budget(world):
    client = world.web(world.staff["nurse"])
    url = f"/patients/{world.patient_a.pk}/history/?section=allergies"
    _post_step(
        client,
        world.patient_a,
        "allergies",
        {
            **ROWS,
            "items-0-severity": "unknown",
            **BLANK_ALLERGY_ROWS,
            "version": "0",
            "none_known": "on",
        },
    )
    client.get(url)
    one = _count(client, url)
    for version in range(1, 20):
        rows = {"items-TOTAL_FORMS": "3", "items-INITIAL_FORMS": "0" if version == 1 else "1"}
        data = {
            **rows,
            **BLANK_ALLERGY_ROWS,
            "items-0-substance": f"thing {version}",
            "items-0-severity": "mild",
        }
        saved = _post_step(client, world.patient_a, "allergies", {**data, "version": str(version)})
        assert saved.status_code == 302
    response = client.get(url)
    assert response.content.count(b"Version ") >= 20
    assert _count(client, url) == one <= 14


def test_a_mistyped_weight_is_voided_from_the_patient_page(world):
    measurement = BodyMeasurementFactory(patient=world.patient_a, recorded_by=world.staff["nurse"])
    client = world.web(world.staff["nurse"])
    client.post(f"/patients/measurements/{measurement.pk}/void/", {"reason": "typed 45 for 54"})
    measurement.refresh_from_db()
    assert measurement.void_reason == "typed 45 for 54"
    page = client.get(f"/patients/{world.patient_a.pk}/").content.decode()
    assert "typed 45 for 54" in page
