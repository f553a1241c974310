"""The sessions API: every step as on the page, recorded once, refusals mapped to HTTP."""

import json
import uuid
from datetime import timedelta

import pytest

from ketacare.treatment.models import MonitoringEntry, TreatmentSession
from tests.factories import TEST_PASSWORD
from tests.ledger.support import draw_for, nurse_actor
from tests.treatment.factories import (
    check_in,
    course_of,
    fresh,
    todays_appointment,
    walk_to,
)

pytestmark = pytest.mark.django_db

PHQ9 = [1, 1, 1, 1, 0, 0, 1, 0, 0]
CSSRS = [False] * 6


def _post(client, url, body, key=None):
    return client.post(
        url,
        json.dumps(body, default=str),
        content_type="application/json",
        # signing steps re-authenticate; other steps ignore the header
        headers={"Idempotency-Key": key or uuid.uuid4().hex, "X-KetaCare-Reauth": TEST_PASSWORD},
    )


def _pre_check_body(version, **overrides):
    body = {
        "version": version,
        "weight_kg": "80.0",
        "height_cm": "180.0",
        "systolic": 126,
        "diastolic": 79,
        "heart_rate": 70,
        "spo2": 98,
        "fasting_confirmed": True,
        "escort_confirmed": True,
        "escort_name": "Kim",
        "pregnancy_test": "not_required",
        "medication_changes": False,
        "phq9_answers": PHQ9,
        "cssrs_answers": CSSRS,
    }
    body.update(overrides)
    return body


def test_an_iv_session_runs_end_to_end_through_the_api(world, session_clock):
    # given today's appointment, a nurse and a prescriber with tokens
    appointment = todays_appointment(course_of(world.patient_a, world.staff))
    nurse, prescriber = world.api(world.staff["nurse"]), world.api(world.staff["prescriber"])
    # when they run the session
    response = _post(nurse, "/api/v1/sessions", {"appointment_id": appointment.pk})
    assert response.status_code == 201, response.content
    session = response.json()
    url = f"/api/v1/sessions/{session['id']}"
    response = _post(nurse, f"{url}/pre-dose-checks", _pre_check_body(session["version"]))
    assert response.status_code == 201, response.content
    assert response.json()["phq9"]["total"] == 5
    version = nurse.get(url).json()["version"]
    plan = _post(
        prescriber,
        f"{url}/dose-plan",
        {"mg_per_kg": "0.5", "concentration_mg_per_ml": "1", "container_volume_ml": "100"},
    )
    assert plan.status_code == 200, plan.content
    assert plan.json()["dose_mg"] == "40.0"
    order = _post(
        prescriber,
        f"{url}/dose-order",
        {
            "version": version,
            "mg_per_kg": "0.5",
            "concentration_mg_per_ml": "1",
            "container_volume_ml": "100",
        },
    )
    assert order.status_code == 201, order.content
    assert order.json()["rate_ml_per_h"] == "60.0"
    version = nurse.get(url).json()["version"]
    verified = _post(nurse, f"{url}/dose-order/verify", {"version": version})
    assert verified.status_code == 200, verified.content
    assert verified.json()["verified_by"]["display_name"]
    version = nurse.get(url).json()["version"]
    draw_for(TreatmentSession.objects.get(pk=session["id"]), nurse_actor(world.clinic_a), "K-2291")
    started = _post(
        nurse,
        f"{url}/administration",
        {
            "version": version,
            "product": "Ketamine HCl 50 mg/mL in saline",
            "lot": "K-2291",
            "concentration_mg_per_ml": "1",
            "volume_ml": "40",
            "rate_ml_per_h": "60",
        },
    )
    assert started.status_code == 201, started.content
    entry = _post(nurse, f"{url}/monitoring", {"systolic": 205, "diastolic": 100})
    assert entry.status_code == 201
    assert entry.json()["alarms"][0]["code"] == "bp_very_high"
    action = _post(
        nurse,
        f"{url}/monitoring/{entry.json()['id']}/action",
        {"action": "paused", "note": "Prescriber called"},
    )
    assert action.status_code == 200, action.content
    resumed = _post(
        nurse, f"{url}/administration/changes", {"kind": "resume", "reason": "BP 150/90"}
    )
    assert resumed.status_code == 201, resumed.content
    done = _post(nurse, f"{url}/administration/complete", {"volume_infused_ml": "40"})
    assert done.status_code == 200, done.content
    criteria = dict.fromkeys(nurse.get(url).json()["discharge_criteria"], True)
    version = nurse.get(url).json()["version"]
    early = _post(nurse, f"{url}/discharge", {"version": version, "criteria": criteria})
    assert early.status_code == 422
    assert early.json()["code"] == "discharge_refused"
    session_clock.travel(timedelta(minutes=31))
    left = _post(nurse, f"{url}/discharge", {"version": version, "criteria": criteria})
    assert left.status_code == 201, left.content
    # then the whole record reads back
    detail = nurse.get(url).json()
    assert detail["status"] == "discharged"
    assert detail["dose_orders"][0]["plan"]["steps"]
    assert detail["administration"]["changes"][0]["kind"] == "pause"
    assert len(detail["monitoring"]) == 2
    assert detail["discharge"]["observed_minutes"] >= 30


def test_a_post_step_without_an_idempotency_key_is_refused(world, team):
    session = check_in(team, world.patient_a, world.staff)
    response = world.api(world.staff["nurse"]).post(
        f"/api/v1/sessions/{session.pk}/monitoring",
        json.dumps({"systolic": 120, "diastolic": 80}),
        content_type="application/json",
    )
    assert response.status_code == 422


def test_a_retried_request_answers_with_the_first_result(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "dosing")
    client = world.api(world.staff["nurse"])
    key = uuid.uuid4().hex
    url = f"/api/v1/sessions/{session.pk}/monitoring"
    first = _post(client, url, {"heart_rate": 90}, key)
    again = _post(client, url, {"heart_rate": 90}, key)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert MonitoringEntry.objects.filter(session=session, heart_rate=90).count() == 1


def test_a_stale_version_answers_409(world, team):
    session = check_in(team, world.patient_a, world.staff)
    stale = session.version
    walk_to(team, session, "pre_checked")
    response = _post(
        world.api(world.staff["nurse"]),
        f"/api/v1/sessions/{session.pk}/cancel",
        {"version": stale, "reason": "Patient left"},
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "version"


def test_a_hard_stop_answers_422_with_the_field(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "pre_checked")
    response = _post(
        world.api(world.staff["prescriber"]),
        f"/api/v1/sessions/{session.pk}/dose-order",
        {
            "version": fresh(session).version,
            "mg_per_kg": "1.1",
            "concentration_mg_per_ml": "1",
            "container_volume_ml": "250",
            "override_reason": "Higher dose requested",
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "HardStop"


def test_the_orderer_verifying_answers_422(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "ordered")
    response = _post(
        world.api(world.staff["prescriber"]),
        f"/api/v1/sessions/{session.pk}/dose-order/verify",
        {"version": fresh(session).version},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "same_person"


def test_a_start_over_the_blood_pressure_limit_answers_422(world, team):
    session = walk_to(team, check_in(team, world.patient_a, world.staff), "verified")
    client = world.api(world.staff["nurse"])
    _post(client, f"/api/v1/sessions/{session.pk}/monitoring", {"systolic": 184, "diastolic": 96})
    order = fresh(session).dose_orders.get()
    response = _post(
        client,
        f"/api/v1/sessions/{session.pk}/administration",
        {
            "version": fresh(session).version,
            "product": "Ketamine",
            "lot": "L",
            "concentration_mg_per_ml": str(order.concentration_mg_per_ml),
            "volume_ml": str(order.volume_ml),
            "rate_ml_per_h": str(order.rate_ml_per_h),
        },
    )
    assert response.status_code == 422
    assert response.json()["code"] == "start_blocked"


def test_a_therapist_may_read_a_session_but_not_record_in_it(world, team):
    session = check_in(team, world.patient_a, world.staff)
    therapist = world.api(world.staff["therapist"])
    assert therapist.get(f"/api/v1/sessions/{session.pk}").status_code == 200
    response = _post(therapist, f"/api/v1/sessions/{session.pk}/monitoring", {"heart_rate": 70})
    assert response.status_code == 403


def test_the_rems_record_answers_for_esketamine_and_refuses_iv(world, team, session_clock):
    iv = check_in(team, world.patient_a, world.staff)
    client = world.api(world.staff["nurse"])
    assert client.get(f"/api/v1/sessions/{iv.pk}/rems-record").status_code == 422
    from ketacare.treatment import services
    from tests.factories import PatientFactory
    from tests.treatment.factories import discharge

    patient = PatientFactory(clinic=world.clinic_a)
    session = check_in(team, patient, world.staff, "esketamine_trd")
    walk_to(team, session, "observation")
    session_clock.travel(timedelta(minutes=35))
    services.monitoring_entry_record(
        actor=team.nurse,
        session_id=session.pk,
        idempotency_key=uuid.uuid4().hex,
        systolic=142,
        diastolic=88,
        moaas=4,
    )
    session_clock.travel(timedelta(minutes=90))
    discharge(team, session)
    rems = client.get(f"/api/v1/sessions/{session.pk}/rems-record")
    assert rems.status_code == 200, rems.content
    body = rems.json()
    assert body["first_treatment"] is True
    assert body["dose_mg"] == "56"
    assert body["monitoring_minutes"] >= 120
    assert body["bp_at_40_minutes"]["systolic"] == 142
    assert body["sedation"] is True


def test_every_session_operation_is_in_the_openapi_with_its_permission(world):
    schema = world.api(None).get("/api/v1/openapi.json").json()
    paths = {p: m for p, m in schema["paths"].items() if p.startswith("/api/v1/sessions")}
    operations = {(method, path) for path, methods in paths.items() for method in methods}
    assert len(operations) >= 18
    assert all("x-permission" in spec for methods in paths.values() for spec in methods.values())
    check_in = paths["/api/v1/sessions"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in check_in["parameters"])


def test_the_rems_record_names_sedating_medicines_from_the_chart(world, team, session_clock):
    # given an esketamine patient whose chart lists lorazepam and sertraline
    from ketacare.patients.services import chart_section_save
    from tests.treatment.factories import discharge

    chart_section_save(
        actor=team.nurse,
        patient_id=world.patient_a.pk,
        section="medicines",
        version=0,
        data={
            "items": [
                {"generic_name": "lorazepam", "dose": "1 mg"},
                {"generic_name": "sertraline", "dose": "150 mg"},
            ]
        },
    )
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    walk_to(team, session, "observation")
    session_clock.travel(timedelta(minutes=125))
    discharge(team, session)
    # when the REMS record is read
    body = world.api(world.staff["nurse"]).get(f"/api/v1/sessions/{session.pk}/rems-record").json()
    # then the core's medicine classes name the benzodiazepine only
    assert body["concomitant_medicine_classes"] == ["Benzodiazepines"]
    assert body["medicines"] == ["lorazepam", "sertraline"]
