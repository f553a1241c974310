"""Staff pages: the alert banner and home panel, alert pages, trajectories on the chart,
worklists, the dashboard, the questionnaire schedule; with their query budgets."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from ketacare.clinical.outcomes import classify
from ketacare.outcomes.models import PortalLink, QuestionnaireAssignment, QuestionnairePolicy
from ketacare.scheduling.models import Course
from tests.factories import PatientFactory
from tests.outcomes.factories import (
    assignment_row,
    phq9_answers,
    response_row,
    suicidality_alert,
)
from tests.scheduling.factories import course_row

pytestmark = pytest.mark.django_db


def _warm(client, url):
    """First request creates the clinic's audit chain; measure the second."""
    assert client.get(url).status_code == 200


def _history(patient, totals, *, start_days_ago=60, step=7):
    start = timezone.now() - timedelta(days=start_days_ago)
    return [
        response_row(patient, "phq9", phq9_answers(total), start + timedelta(days=step * i))
        for i, total in enumerate(totals)
    ]


# --- banner and home ------------------------------------------------------------------------


def test_every_staff_page_polls_the_alert_banner_for_roles_that_see_alerts(world):
    nurse_page = world.web(world.staff["nurse"]).get("/patients/").content.decode()
    desk_page = world.web(world.staff["front_desk"]).get("/patients/").content.decode()
    assert 'hx-get="/outcomes/alerts/banner/"' in nurse_page and "every 30s" in nurse_page
    assert "/outcomes/alerts/banner/" not in desk_page


def test_the_banner_counts_open_alerts_until_someone_acknowledges(world, django_assert_num_queries):
    client = world.web(world.staff["therapist"])
    assert b"open safety alert" not in client.get("/outcomes/alerts/banner/").content
    alert = suicidality_alert(world.patient_a)
    suicidality_alert(PatientFactory(clinic=world.clinic_a))
    suicidality_alert(world.patient_b)  # another clinic's: not counted
    # session, user, memberships, one count (no patient data, so no audit), session save (3)
    with django_assert_num_queries(7):
        banner = client.get("/outcomes/alerts/banner/").content.decode()
    assert "2 open safety alerts" in banner
    world.web(world.staff["nurse"]).post(
        f"/outcomes/alerts/{alert.pk}/acknowledge/", {"version": alert.version}
    )
    assert "1 open safety alert" in client.get("/outcomes/alerts/banner/").content.decode()


def test_the_home_page_shows_open_alerts_to_acknowledge_there(world):
    alert = suicidality_alert(world.patient_a)
    client = world.web(world.staff["nurse"])
    home = client.get("/").content.decode()
    assert 'hx-get="/outcomes/alerts/panel/"' in home
    panel = client.get("/outcomes/alerts/panel/", headers={"HX-Request": "true"})
    assert world.patient_a.display_name in panel.content.decode()
    # acknowledging from the panel returns the refreshed panel
    after = client.post(
        f"/outcomes/alerts/{alert.pk}/acknowledge/",
        {"version": alert.version, "from": "home"},
        headers={"HX-Request": "true"},
    )
    assert after.status_code == 200 and b"No open safety alerts" in after.content
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


@pytest.mark.parametrize("alerts", [1, 25])
def test_the_alert_list_has_a_fixed_query_budget(world, alerts, django_assert_num_queries):
    for _ in range(alerts):
        suicidality_alert(PatientFactory(clinic=world.clinic_a))
    client = world.web(world.staff["nurse"])
    _warm(client, "/outcomes/alerts/")
    # session, user, memberships; alerts with patient and people; audit (5)
    with django_assert_num_queries(9):
        page = client.get("/outcomes/alerts/")
    assert page.content.decode().count('data-testid="alert-row"') == alerts


def test_an_alert_page_acts_through_forms_and_refuses_a_stale_one(world):
    alert = suicidality_alert(world.patient_a)
    client = world.web(world.staff["nurse"])
    page = client.get(f"/outcomes/alerts/{alert.pk}/").content.decode()
    assert "Acknowledge" in page and alert.meaning in page
    client.post(f"/outcomes/alerts/{alert.pk}/acknowledge/", {"version": 1})
    stale = client.post(
        f"/outcomes/alerts/{alert.pk}/resolve/", {"version": 1, "note": "done"}, follow=True
    )
    assert b"Someone else changed this alert" in stale.content
    client.post(f"/outcomes/alerts/{alert.pk}/resolve/", {"version": 2, "note": "Called her."})
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolution_note == "Called her."


def test_front_desk_cannot_open_an_alert(world):
    alert = suicidality_alert(world.patient_a)
    response = world.web(world.staff["front_desk"]).get(f"/outcomes/alerts/{alert.pk}/")
    assert response.status_code == 403


# --- the chart's outcomes panel -------------------------------------------------------------


def test_the_chart_loads_the_outcomes_panel_for_roles_that_see_questionnaires(world):
    nurse = world.web(world.staff["nurse"]).get(f"/patients/{world.patient_a.pk}/")
    desk = world.web(world.staff["front_desk"]).get(f"/patients/{world.patient_a.pk}/")
    assert f'hx-get="/outcomes/patients/{world.patient_a.pk}/"' in nurse.content.decode()
    desk_html = desk.content.decode()
    assert 'hx-get="/outcomes/patients/' not in desk_html
    assert "Show QR code for the clinic tablet" in desk_html


def test_the_trajectory_shows_bands_baseline_sessions_and_the_cores_outcome(world):
    # given a course started 30 days ago, a baseline of 20 two days before it and a fall to 8
    # (two days, so the server's and the clinic's calendars may differ by a day either way)
    course = course_row(world.patient_a, world.staff)
    Course.objects.filter(pk=course.pk).update(started_on=timezone.localdate() - timedelta(days=30))
    _history(world.patient_a, [20, 15, 11, 8], start_days_ago=32)
    # when a nurse opens the patient's outcomes
    page = world.web(world.staff["nurse"]).get(f"/outcomes/patients/{world.patient_a.pk}/")
    html = page.content.decode()
    # then the chart has the scale's five bands, the baseline, four points, and the outcome
    svg = re.search(r'<figure[^>]*data-testid="trajectory-phq9".*?</figure>', html, re.S).group(0)
    assert svg.count("<rect") == 5
    for band in ("minimal", "mild", "moderate", "moderately severe", "severe"):
        assert f"<title>{band}</title>" in svg
    assert 'data-testid="baseline-line"' in svg and "baseline 20" in svg
    assert svg.count("<circle") == 4
    assert 'role="img"' in svg and "<desc" in svg
    expected = classify("phq9", 20, 8)
    assert expected.capitalize() in html  # the core's word, not ours
    assert "scores as a table" in html


def test_the_panel_shows_booster_course_markers(world):
    course_row(world.patient_a, world.staff, kind="booster")
    _history(world.patient_a, [12, 9], start_days_ago=10, step=5)
    html = world.web(world.staff["nurse"]).get(f"/outcomes/patients/{world.patient_a.pk}/")
    assert 'data-kind="booster_course"' in html.content.decode()


@pytest.mark.parametrize("scores", [2, 40])
def test_the_outcomes_panel_has_a_fixed_query_budget(world, scores, django_assert_num_queries):
    _history(world.patient_a, [max(0, 20 - i % 20) for i in range(scores)], step=1)
    assignment_row(world.patient_a)
    client = world.web(world.staff["nurse"])
    url = f"/outcomes/patients/{world.patient_a.pk}/"
    _warm(client, url)
    # session, user, memberships; tenancy guard; patient and its audit (1 + 5); responses;
    # responses entered in error; courses; sessions; assignments; open alerts
    with django_assert_num_queries(16):
        assert client.get(url, headers={"HX-Request": "true"}).status_code == 200


def test_the_prescriber_sees_the_journal_on_the_panel_and_the_nurse_does_not(world):
    from ketacare.outcomes.models import JournalEntry
    from tests.outcomes.factories import link_for

    link = link_for(world.patient_a, purpose="journal").link
    JournalEntry.objects.create(
        clinic=world.clinic_a,
        patient=world.patient_a,
        body="Walked by the sea.",
        written_at=timezone.now(),
        link=link,
    )
    url = f"/outcomes/patients/{world.patient_a.pk}/"
    assert b"Walked by the sea." in world.web(world.staff["prescriber"]).get(url).content
    assert b"Walked by the sea." not in world.web(world.staff["nurse"]).get(url).content


# --- sending from the chart -----------------------------------------------------------------


def test_the_front_desk_shows_a_qr_code_that_opens_the_patients_questionnaire(world):
    client = world.web(world.staff["front_desk"])
    page = client.post(
        f"/outcomes/patients/{world.patient_a.pk}/qr/",
        {"instrument_ids": ["phq9"], "idempotency_key": "k1"},
    )
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "<svg" in html and 'data-testid="qr-code"' in html
    url = re.search(r'data-testid="portal-link">([^<]+)<', html).group(1)
    path = url.split("127.0.0.1:8000", 1)[1]
    from django.test import Client

    assert b"PHQ-9" in Client().get(path).content
    link = PortalLink.objects.get()
    assert link.channel == "qr" and link.expires_at <= timezone.now() + timedelta(minutes=31)


def test_a_double_click_on_send_asks_once(world):
    client = world.web(world.staff["nurse"])
    form = {"instrument_ids": ["phq9", "gad7"], "idempotency_key": "same-key"}
    for _ in range(2):
        client.post(f"/outcomes/patients/{world.patient_a.pk}/send/", form)
    assert QuestionnaireAssignment.objects.filter(patient=world.patient_a).count() == 2
    assert len(mail.outbox) == 2  # the link was e-mailed twice, the questionnaires asked once
    assert "/portal/" in mail.outbox[0].body


# --- worklists and dashboard ----------------------------------------------------------------


def _relapsed_patient(world, clinic=None):
    """A completed course: baseline 20, response to 6, then two scores back above 10."""
    patient = PatientFactory(clinic=clinic or world.clinic_a)
    course = course_row(patient, world.staff, status="completed", end_reason="complete")
    # The baseline lies two days before the course starts: at the end of a clinic day (and across
    # a daylight-saving change) the server's date and the clinic's may differ by one.
    Course.objects.filter(pk=course.pk).update(
        started_on=timezone.localdate() - timedelta(days=59),
        ended_at=timezone.now() - timedelta(days=40),
    )
    start = timezone.now() - timedelta(days=61)
    for days, total in [(0, 20), (14, 9), (20, 6), (35, 7), (45, 14), (52, 16)]:
        response_row(patient, "phq9", phq9_answers(total), start + timedelta(days=days))
    return patient


def test_a_relapse_signal_puts_the_patient_on_the_booster_worklist_with_evidence(world):
    patient = _relapsed_patient(world)
    page = world.web(world.staff["prescriber"]).get("/outcomes/boosters/").content.decode()
    assert patient.family_name in page and 'data-testid="booster-row"' in page
    assert "baseline 20" in page and "14 on" in page and "16 on" in page


def test_a_new_booster_course_takes_the_patient_off_the_worklist(world):
    patient = _relapsed_patient(world)
    course_row(patient, world.staff, kind="booster")
    page = world.web(world.staff["prescriber"]).get("/outcomes/boosters/").content.decode()
    assert 'data-testid="booster-row"' not in page


@pytest.mark.parametrize("patients", [1, 8])
def test_the_booster_worklist_has_a_fixed_query_budget(world, patients, django_assert_num_queries):
    for _ in range(patients):
        _relapsed_patient(world)
    client = world.web(world.staff["prescriber"])
    _warm(client, "/outcomes/boosters/")
    # session, user, memberships; the summaries' catch-up check (the clinic's mark, then new
    # scores, new courses, ended courses: nothing new); stored signals with patients and
    # courses; audit (5)
    with django_assert_num_queries(13):
        page = client.get("/outcomes/boosters/")
    assert page.content.decode().count('data-testid="booster-row"') == patients


@pytest.mark.parametrize("rows", [1, 30])
def test_the_missed_list_has_a_fixed_query_budget(world, rows, django_assert_num_queries):
    for _ in range(rows):
        assignment_row(
            PatientFactory(clinic=world.clinic_a),
            opens_at=timezone.now() - timedelta(days=5),
            due_by=timezone.now() - timedelta(days=1),
        )
    client = world.web(world.staff["nurse"])
    _warm(client, "/outcomes/overdue/")
    # session, user, memberships; assignments with patients; deliveries; audit (5)
    with django_assert_num_queries(10):
        page = client.get("/outcomes/overdue/")
    assert page.content.decode().count('data-testid="overdue-row"') == rows


@pytest.mark.parametrize("patients", [1, 8])
def test_the_dashboard_reports_outcomes_by_protocol_with_a_fixed_budget(
    world, patients, django_assert_num_queries
):
    for _ in range(patients):
        _relapsed_patient(world)
    client = world.web(world.staff["admin"])
    _warm(client, "/outcomes/dashboard/")
    # session, user, memberships; the summaries' catch-up check (4: nothing new); tallies;
    # active patients; overdue count; alert counts; worklist count; audit (5)
    with django_assert_num_queries(17):
        page = client.get("/outcomes/dashboard/")
    html = page.content.decode()
    # every course's last score before its end was 6 from a baseline of 20: the core calls
    # that response (not remission: 6 is above the PHQ-9 remission threshold)
    assert classify("phq9", 20, 6) == "response"
    row = re.search(r"<td>iv_induction_6x</td>.*?</tr>", html, re.S).group(0)
    assert f"<td>{patients}</td><td>{patients}</td>" in row
    assert f"100% ({patients})" in row and "0% (0)" in row and "<td>-14</td>" in row


# --- the clinic's questionnaire schedule ----------------------------------------------------


def test_an_admin_changes_the_schedule_and_a_stale_form_is_refused(world):
    client = world.web(world.staff["admin"])
    form = {
        "before_session_instruments": ["phq9", "cssrs_screen"],
        "during_course_instruments": ["phq9"],
        "after_course_instruments": ["phq9"],
        "before_session_lead_hours": 12,
        "during_course_every_days": 7,
        "after_course_weekly_count": 4,
        "after_course_monthly_count": 3,
        "window_days": 2,
        "reminder_after_hours": 24,
        "version": "",
    }
    assert client.post("/outcomes/policy/", form).status_code == 302
    policy = QuestionnairePolicy.objects.get(clinic=world.clinic_a)
    assert policy.before_session_lead_hours == 12 and policy.version == 1
    assert client.post("/outcomes/policy/", {**form, "version": 1}).status_code == 302
    stale = client.post("/outcomes/policy/", {**form, "version": 1, "window_days": 5})
    assert stale.status_code == 409


def test_a_clinician_scale_cannot_be_sent_to_patients(world):
    client = world.web(world.staff["admin"])
    response = client.post(
        "/outcomes/policy/",
        {
            "during_course_instruments": ["cssrs_screen"],
            "before_session_lead_hours": 24,
            "during_course_every_days": 7,
            "after_course_weekly_count": 4,
            "after_course_monthly_count": 6,
            "window_days": 3,
            "reminder_after_hours": 24,
        },
    )
    assert response.status_code == 422 and b"administered by a clinician" in response.content


def test_the_banner_tells_the_start_page_when_alerts_change(world):
    client = world.web(world.staff["nurse"])
    first = client.get("/outcomes/alerts/banner/")
    unchanged = client.get("/outcomes/alerts/banner/")
    suicidality_alert(world.patient_a)
    changed = client.get("/outcomes/alerts/banner/")
    assert "HX-Trigger" not in first and "HX-Trigger" not in unchanged
    assert changed["HX-Trigger"] == "alerts-changed"
    home = client.get("/").content.decode()
    assert 'hx-trigger="load, alerts-changed from:body"' in home


def test_a_protocol_can_have_its_own_schedule(world):
    client = world.web(world.staff["admin"])
    form = {
        "before_session_instruments": ["phq9"],
        "during_course_instruments": ["pcl5"],
        "after_course_instruments": ["pcl5"],
        "before_session_lead_hours": 24,
        "during_course_every_days": 7,
        "after_course_weekly_count": 4,
        "after_course_monthly_count": 6,
        "window_days": 3,
        "reminder_after_hours": 24,
    }
    response = client.post("/outcomes/policy/?protocol=esketamine_trd", form)
    assert response.status_code == 302 and response["Location"].endswith("?protocol=esketamine_trd")
    row = QuestionnairePolicy.objects.get(clinic=world.clinic_a)
    assert row.protocol_id == "esketamine_trd" and row.during_course_instruments == ["pcl5"]
    page = client.get("/outcomes/policy/?protocol=esketamine_trd").content.decode()
    assert "Courses under esketamine_trd use this schedule." in page
