"""Session pages: each step's form for the role that does it, refusals shown, query budgets."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ketacare.treatment.models import MonitoringEntry, SessionStatus
from tests.factories import TEST_PASSWORD
from tests.treatment.factories import (
    all_criteria,
    check_in,
    course_of,
    fresh,
    pre_check,
    reading,
    todays_appointment,
    walk_to,
)

pytestmark = pytest.mark.django_db

S = SessionStatus


def _url(session, step=""):
    return f"/sessions/{session.pk}/{step}"


def _key():
    return uuid.uuid4().hex


def test_todays_list_offers_check_in_and_checking_in_opens_the_session(world, team):
    # given a booked appointment today
    appointment = todays_appointment(course_of(world.patient_a, world.staff))
    nurse = world.web(world.staff["nurse"])
    # when the nurse opens today's sessions and checks the patient in
    page = nurse.get("/sessions/")
    assert page.status_code == 200
    assert world.patient_a.display_name.encode() in page.content
    assert b"Check in" in page.content
    response = nurse.post(
        "/sessions/check-in/", {"appointment_id": appointment.pk, "idempotency_key": _key()}
    )
    # then the session page opens at the pre-dose checks
    assert response.status_code == 302
    page = nurse.get(response["Location"])
    assert b"Step 1" in page.content and b"Record the pre-dose checks" in page.content


def test_front_desk_sees_no_session_list(world):
    assert world.web(world.staff["front_desk"]).get("/sessions/").status_code == 403


def test_the_pre_dose_form_records_the_checks(world, team):
    session = check_in(team, world.patient_a, world.staff)
    data = {
        "version": session.version,
        "idempotency_key": _key(),
        "weight_kg": "70.0",
        "weight_unit": "kg",
        "height_cm": "170",
        "systolic": "124",
        "diastolic": "80",
        "heart_rate": "70",
        "respiratory_rate": "14",
        "spo2": "98",
        "fasting_confirmed": "on",
        "escort_confirmed": "on",
        "escort_name": "Sam",
        "pregnancy_test": "negative",
        **{f"phq9_{n}": "1" for n in range(1, 10)},
        **{f"cssrs_{n}": "0" for n in range(1, 7)},
    }
    data["phq9_9"] = "0"
    response = world.web(world.staff["nurse"]).post(_url(session, "pre-check/"), data)
    assert response.status_code == 302
    assert fresh(session).status == S.PRE_CHECKED


def test_a_stale_form_is_refused_with_409_and_the_reason(world, team):
    # given the nurse's page at an old version
    session = check_in(team, world.patient_a, world.staff)
    old = session.version
    pre_check(team, session)
    # when she submits a cancel made on that page
    response = world.web(world.staff["nurse"]).post(
        _url(session, "cancel/"),
        {"cancel-version": old, "cancel-idempotency_key": _key(), "cancel-reason": "left"},
    )
    # then it is refused, the page says why and nothing changed
    assert response.status_code == 409
    assert b"changed by someone else" in response.content
    assert fresh(session).status == S.PRE_CHECKED


def test_the_prescriber_sees_the_order_form_and_the_nurse_waits(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    prescriber = world.web(world.staff["prescriber"]).get(_url(session))
    nurse = world.web(world.staff["nurse"]).get(_url(session))
    assert b"Sign the order" in prescriber.content
    assert b"Sign the order" not in nurse.content
    assert b"Waiting for the prescriber" in nurse.content


def test_calculate_shows_the_cores_working_without_saving(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    response = world.web(world.staff["prescriber"]).post(
        _url(session, "dose-order/"),
        {
            "preview": "1",
            "version": fresh(session).version,
            "idempotency_key": _key(),
            "mg_per_kg": "0.5",
            "concentration_mg_per_ml": "1",
            "container_volume_ml": "100",
            "duration_min": "40",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b"35.0 mg" in response.content and b"Pump rate" in response.content
    assert fresh(session).status == S.PRE_CHECKED


def test_a_hard_stop_is_shown_on_the_order_form(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    response = world.web(world.staff["prescriber"]).post(
        _url(session, "dose-order/"),
        {
            "version": fresh(session).version,
            "idempotency_key": _key(),
            "mg_per_kg": "1.5",
            "concentration_mg_per_ml": "1",
            "container_volume_ml": "200",
            "duration_min": "40",
            "override_reason": "please",
            "signing_secret": TEST_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert b"Hard stop" in response.content
    assert fresh(session).status == S.PRE_CHECKED


def test_the_orderer_is_told_a_second_clinician_must_verify(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    page = world.web(world.staff["prescriber"]).get(_url(session))
    assert b"a second clinician must verify it" in page.content
    assert b"Verify the dose</button>" not in page.content
    nurse = world.web(world.staff["nurse"]).get(_url(session))
    assert b"Verify the dose</button>" in nurse.content


def test_the_orderer_posting_a_verification_is_refused(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    response = world.web(world.staff["prescriber"]).post(
        _url(session, "dose-order/verify/"),
        {
            "version": fresh(session).version,
            "idempotency_key": _key(),
            "confirm": "on",
            "signing_secret": TEST_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert b"second clinician" in response.content
    assert fresh(session).status == S.ORDERED


def test_a_double_submitted_reading_is_recorded_once(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    nurse = world.web(world.staff["nurse"])
    data = {"idempotency_key": _key(), "systolic": "130", "diastolic": "85", "heart_rate": "88"}
    first = nurse.post(_url(session, "monitoring/"), data, headers={"HX-Request": "true"})
    second = nurse.post(_url(session, "monitoring/"), data, headers={"HX-Request": "true"})
    assert first.status_code == second.status_code == 200
    assert MonitoringEntry.objects.filter(session=session, phase="dosing").count() == 1


def test_an_out_of_limit_reading_shows_the_alarm_and_asks_for_an_action(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    response = world.web(world.staff["nurse"]).post(
        _url(session, "monitoring/"),
        {"idempotency_key": _key(), "spo2": "88", "heart_rate": "90"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'class="out"' in response.content
    assert b"SpO2 88% is below 92%" in response.content
    assert b"Action needed" in response.content and b'hx-swap-oob="true"' in response.content


def test_an_invalid_reading_is_shown_on_the_form_with_422(world, team):
    session = check_in(team, world.patient_a, world.staff)
    response = world.web(world.staff["nurse"]).post(
        _url(session, "monitoring/"),
        {"idempotency_key": _key(), "systolic": "130"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert b"Give both systolic and diastolic" in response.content


def test_the_observation_countdown_and_the_discharge_refusal(world, team, session_clock):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    session_clock.travel(timedelta(minutes=5))
    nurse = world.web(world.staff["nurse"])
    page = nurse.get(_url(session))
    assert re.search(rb"2[45]:\d\d left", page.content)
    data = {
        "version": fresh(session).version,
        "idempotency_key": _key(),
        "signing_secret": TEST_PASSWORD,
    }
    data.update({f"criterion_{name}": "on" for name in all_criteria(session)})
    response = nurse.post(_url(session, "discharge/"), data)
    assert response.status_code == 422
    assert b"25 of the minimum 30 minutes" in response.content


def test_the_timeline_poll_answers_204_while_nothing_changed(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    client = world.web(world.staff["therapist"])
    first = client.get(_url(session, "timeline/"))
    assert first.status_code == 200
    version = first.content.split(b"?v=")[1].split(b"&")[0].decode()
    assert client.get(_url(session, f"timeline/?v={version}")).status_code == 204
    reading(team, session, systolic=120, diastolic=80)
    assert client.get(_url(session, f"timeline/?v={version}")).status_code == 200


def test_the_summary_and_rems_record_render_for_a_discharged_esketamine_session(
    world, team, session_clock
):
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    walk_to(team, session, "observation")
    session_clock.travel(timedelta(minutes=45))
    reading(team, session, systolic=135, diastolic=85, spo2=97, moaas=4, dissociation="mild")
    session_clock.travel(timedelta(minutes=80))
    # sedation and dissociation resolved before discharge (the REMS asks for both)
    reading(team, session, systolic=128, diastolic=80, spo2=98, moaas=5, dissociation="none")
    from tests.treatment.factories import discharge

    discharge(team, session)
    client = world.web(world.staff["nurse"])
    summary = client.get(_url(session, "summary/"))
    assert summary.status_code == 200 and b"Treatment session summary" in summary.content
    rems = client.get(_url(session, "rems/"))
    assert rems.status_code == 200
    assert b"56 mg" in rems.content and b"LOT-1234" in rems.content


def test_the_patients_chart_lists_their_sessions(world, team):
    session = check_in(team, world.patient_a, world.staff)
    response = world.web(world.staff["nurse"]).get(
        f"/sessions/patients/{world.patient_a.pk}/", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert f"/sessions/{session.pk}/".encode() in response.content


def _session_with_readings(world, team, count):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    administration = fresh(session).administration
    entries = [
        MonitoringEntry(
            clinic=world.clinic_a,
            session=session,
            phase="dosing",
            taken_at=administration.started_at + timedelta(seconds=n),
            systolic=120 + n % 70,
            diastolic=80,
            heart_rate=70,
            spo2=97,
            moaas=4,
            alarms=[{"code": "bp_high_recheck", "message": "high", "action": "recheck"}]
            if n % 10 == 0
            else [],
            recorded_by=world.staff["nurse"],
            recorded_at=administration.started_at,
        )
        for n in range(count)
    ]
    MonitoringEntry.objects.bulk_create(entries)
    return session


@pytest.mark.parametrize("readings", [1, 100])
def test_the_session_page_makes_the_same_queries_whatever_the_timeline_length(
    world, team, readings, django_assert_num_queries
):
    # given a running infusion with 1 or 100 readings
    session = _session_with_readings(world, team, readings)
    client = world.web(world.staff["nurse"])
    client.get(_url(session))  # warm up: session, audit chain
    # when the nurse opens the session page
    with django_assert_num_queries(SESSION_PAGE_QUERIES):
        response = client.get(_url(session))
    # then it renders every reading
    assert response.status_code == 200
    assert response.content.count(b'data-testid="reading"') == readings + 1


# Sign-in session and user (2), the actor's memberships (1), the tenancy guard (1), the session
# with patient, course, chair (1), the audited read (5: savepoint, chain head, insert, update,
# release), pre-checks, orders, administration with devices and changes (5), readings,
# adverse events, medicines given, decisions, discharge (5), the course's session count (1), the
# clinic's alarm thresholds (1). The sign-in session's idle clock is written at most every 15 s,
# so not on this request.
SESSION_PAGE_QUERIES = 22


def test_the_session_page_query_count_is_what_the_budget_says(world, team):
    session = _session_with_readings(world, team, 5)
    client = world.web(world.staff["nurse"])
    client.get(_url(session))
    with CaptureQueriesContext(connection) as queries:
        client.get(_url(session))
    assert len(queries) == SESSION_PAGE_QUERIES, "\n".join(q["sql"][:120] for q in queries)


def test_a_blocked_start_hides_the_start_form_and_asks_the_prescriber(world, team):
    # given a verified order and then a blood pressure of 150/95 before the start
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "verified")
    reading(team, session, systolic=150, diastolic=95)
    # then the nurse sees why and no start button; the prescriber sees the decision form
    nurse = world.web(world.staff["nurse"]).get(_url(session)).content
    assert b"Prescriber&#x27;s decision needed" in nurse or b"Prescriber's decision needed" in nurse
    assert b"Start the infusion" not in nurse
    prescriber = world.web(world.staff["prescriber"]).get(_url(session)).content
    assert b"Record decision" in prescriber


def _queries(client, url):
    client.get(url)  # warm up
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_todays_list_makes_the_same_queries_for_one_or_many_patients(world, team):
    from tests.factories import PatientFactory

    client = world.web(world.staff["nurse"])
    todays_appointment(course_of(world.patient_a, world.staff))
    check_in(team, world.patient_a, world.staff)
    one = _queries(client, "/sessions/")
    for _ in range(8):
        patient = PatientFactory(clinic=world.clinic_a)
        todays_appointment(course_of(patient, world.staff))
        check_in(team, patient, world.staff)
    assert _queries(client, "/sessions/") == one


def test_the_patients_session_list_makes_the_same_queries_however_many_sessions(world, team):
    from tests.treatment.factories import session_row

    client = world.web(world.staff["nurse"])
    url = f"/sessions/patients/{world.patient_a.pk}/"
    walk_to(team, check_in(team, world.patient_a, world.staff), "observation")
    one = _queries(client, url)
    for _ in range(6):
        session_row(world.clinic_a, world.patient_a, world.staff)
    assert _queries(client, url) == one


@pytest.mark.parametrize("page", ["summary/", "timeline/"])
def test_the_summary_and_timeline_make_the_same_queries_for_1_or_100_readings(world, team, page):
    small = _session_with_readings(world, team, 1)
    client = world.web(world.staff["nurse"])
    few = _queries(client, _url(small, page))
    from tests.factories import PatientFactory

    large = _session_with_readings_for(world, team, PatientFactory(clinic=world.clinic_a), 100)
    assert _queries(client, _url(large, page)) == few


def _session_with_readings_for(world, team, patient, count):
    session = walk_to(team, check_in(team, patient, world.staff), "dosing")
    started = fresh(session).administration.started_at
    MonitoringEntry.objects.bulk_create(
        MonitoringEntry(
            clinic=world.clinic_a,
            session=session,
            phase="dosing",
            taken_at=started + timedelta(seconds=n),
            systolic=120,
            diastolic=80,
            recorded_by=world.staff["nurse"],
            recorded_at=started,
        )
        for n in range(count)
    )
    return session
