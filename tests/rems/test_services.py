"""SPRAVATO REMS operations: the setting's certification, enrolment, and monitoring forms."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.errors import Refused
from ketacare.ledger.models import EntryKind, LedgerEntry
from ketacare.rems import selectors, services
from ketacare.rems.models import MonitoringForm, SettingCertification
from ketacare.treatment import services as treatment
from tests.ledger.factories import as_actor
from tests.treatment.factories import (
    check_in,
    course_of,
    discharge,
    fresh,
    key,
    reading,
    todays_appointment,
    walk_to,
)

pytestmark = pytest.mark.django_db


def refused(code, call):
    with pytest.raises(Refused) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def _certify(world, status="certified", **overrides):
    values = {
        "certification_id": "HCS-000123", "location": "Clinic A, 10 Main St",
        "authorised_representative": "Ada Admin",
        "certified_on": timezone.localdate() - timedelta(days=10), "valid_until": None,
        "status": status,
    }  # fmt: skip
    values.update(overrides)
    return services.certification_record(
        actor=as_actor(world.staff["admin"], world.clinic_a, "admin"), **values
    )


def _enrol(world, patient=None, **overrides):
    values = {
        "patient_id": (patient or world.patient_a).pk, "rems_patient_id": "RP-1",
        "enrolled_on": timezone.localdate(), "signed_by_patient": True,
        "prescriber_id": world.staff["prescriber"].pk,
    }  # fmt: skip
    values.update(overrides)
    return services.enrolment_record(
        actor=as_actor(world.staff["nurse"], world.clinic_a, "nurse"), **values
    )


def test_an_esketamine_check_in_is_refused_at_a_location_without_current_certification(world, team):
    # given the setting's certification was withdrawn
    _certify(world)
    _certify(world, status="decertified")
    # when the nurse checks an esketamine patient in
    appointment = todays_appointment(course_of(world.patient_a, world.staff, "esketamine_trd"))
    assert (
        refused(
            "rems_setting_not_certified",
            lambda: treatment.session_check_in(
                actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
            ),
        ).code
        == "rems_setting_not_certified"
    )


def test_an_expired_certification_is_not_current(world):
    _certify(world, valid_until=timezone.localdate() - timedelta(days=1))
    assert (
        selectors.certification_current(clinic_id=world.clinic_a.pk, on=timezone.localdate())
        is None
    )


def test_the_first_esketamine_dose_is_refused_until_the_patient_is_enrolled(world, team):
    # given a certified setting and a patient who is not enrolled
    _certify(world)
    appointment = todays_appointment(course_of(world.patient_a, world.staff, "esketamine_trd"))
    session = treatment.session_check_in(
        actor=team.nurse, idempotency_key=key(), appointment_id=appointment.pk
    )
    walk_to(team, session, "verified")
    # when the first device is to be given, it is refused
    from tests.treatment.factories import start

    assert (
        refused("rems_patient_not_enrolled", lambda: start(team, session)).code
        == "rems_patient_not_enrolled"
    )
    # and once enrolled, it goes ahead
    _enrol(world)
    start(team, session)
    assert fresh(session).status == "dosing"


def test_enrolment_needs_the_patients_signature_and_a_prescriber(world):
    assert refused("required", lambda: _enrol(world, signed_by_patient=False)).code == "required"
    assert (
        refused("not_prescriber", lambda: _enrol(world, prescriber_id=world.staff["nurse"].pk)).code
        == "not_prescriber"
    )
    assert (
        refused(
            "not_prescriber", lambda: _enrol(world, prescriber_id=world.outsiders["prescriber"].pk)
        ).code
        == "not_prescriber"
    )
    assert (
        refused(
            "invalid", lambda: _enrol(world, enrolled_on=timezone.localdate() + timedelta(days=1))
        ).code
        == "invalid"
    )
    assert refused("not_found", lambda: _enrol(world, patient=world.patient_b)).code == "not_found"
    _enrol(world)
    assert refused("exists", lambda: _enrol(world)).code == "exists"


def test_a_certification_that_ends_before_it_starts_is_refused(world):
    assert (
        refused(
            "invalid",
            lambda: _certify(world, valid_until=timezone.localdate() - timedelta(days=20)),
        ).code
        == "invalid"
    )
    assert refused("invalid", lambda: _certify(world, status="maybe")).code == "invalid"
    assert not SettingCertification.objects.exists()


def _esketamine_session_discharged(world, team, session_clock):
    session = check_in(team, world.patient_a, world.staff, "esketamine_trd")
    walk_to(team, session, "observation")
    for minutes, (systolic, diastolic) in ((40, (138, 86)), (85, (126, 80))):
        session_clock.travel(timedelta(minutes=minutes))
        reading(team, session, systolic=systolic, diastolic=diastolic, heart_rate=78, spo2=98)
    discharge(team, session)
    return fresh(session)


def test_a_session_fills_its_monitoring_form_which_is_signed_and_submitted(
    world, team, session_clock
):
    # given an esketamine session of 56 mg from lot LOT-1234, discharged after 2 hours
    session = _esketamine_session_discharged(world, team, session_clock)
    form = MonitoringForm.objects.get(session_id=session.pk)
    assert form.due_on == form.session_day + timedelta(days=7)
    # and the ledger holds two devices administered, 28 mg each
    given = LedgerEntry.objects.filter(session_id=session.pk, kind=EntryKind.ADMINISTRATION)
    assert sorted(e.dose_mg for e in given) == [28, 28]
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    assert (
        refused(
            "not_filled", lambda: services.monitoring_form_sign(actor=nurse, form_id=form.pk)
        ).code
        == "not_filled"
    )
    # when the nurse fills it from the record
    form = services.monitoring_form_fill(actor=nurse, form_id=form.pk)
    # then the answers come from the session record
    answers = form.answers
    assert answers["dose"] == "56 mg" and answers["lot"] == "LOT-1234"
    assert answers["monitoring_minutes"] >= 120
    assert answers["rems_patient_id"].startswith("RP-")
    assert answers["certification_id"] == "REMS-HCS-0001"
    assert answers["bp_before"] == "122/78" and answers["bp_at_40"] == "138/86"
    assert answers["bp_before_discharge"] == "126/80"
    # when she signs and the admin records the submission
    services.monitoring_form_sign(actor=nurse, form_id=form.pk)
    assert (
        refused("signed", lambda: services.monitoring_form_fill(actor=nurse, form_id=form.pk)).code
        == "signed"
    )
    admin = as_actor(world.staff["admin"], world.clinic_a, "admin")
    form = services.monitoring_form_submit(
        actor=admin, form_id=form.pk, submitted_on=timezone.localdate(), method="portal",
        confirmation_number="PMF-778812",
    )  # fmt: skip
    # then the queue shows it submitted
    [row] = selectors.monitoring_form_queue(actor=admin)
    assert row.state == "submitted" and row.form.confirmation_number == "PMF-778812"
    assert len(form.content_hash) == 64


def test_a_form_missing_an_answer_cannot_be_signed(world, team, session_clock):
    session = _esketamine_session_discharged(world, team, session_clock)
    form = MonitoringForm.objects.get(session_id=session.pk)
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    services.monitoring_form_fill(actor=nurse, form_id=form.pk)
    MonitoringForm.objects.filter(pk=form.pk).update(answers={**form.answers, "lot": ""})
    assert (
        refused(
            "incomplete", lambda: services.monitoring_form_sign(actor=nurse, form_id=form.pk)
        ).code
        == "incomplete"
    )


def test_a_late_submission_needs_a_reason(world, team, session_clock):
    session = _esketamine_session_discharged(world, team, session_clock)
    form = MonitoringForm.objects.get(session_id=session.pk)
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    admin = as_actor(world.staff["admin"], world.clinic_a, "admin")
    # the clinic's day on the session clock (the session moved it on), not the server's
    today = selectors.clinic_today(admin)
    assert (
        refused(
            "not_signed",
            lambda: services.monitoring_form_submit(
                actor=admin,
                form_id=form.pk,
                submitted_on=today,
                method="fax",
                confirmation_number="X",
            ),  # fmt: skip
        ).code
        == "not_signed"
    )
    services.monitoring_form_fill(actor=nurse, form_id=form.pk)
    services.monitoring_form_sign(actor=nurse, form_id=form.pk)
    # given the form was due a week ago (the session was 15 days ago)
    MonitoringForm.objects.filter(pk=form.pk).update(
        session_day=today - timedelta(days=15),
        due_on=today - timedelta(days=8),
    )
    [row] = selectors.monitoring_form_queue(actor=admin)
    assert row.state == "overdue"

    def submit(**kwargs):
        values = {"submitted_on": today, "method": "fax",
                  "confirmation_number": "F-1"}  # fmt: skip
        values.update(kwargs)
        return lambda: services.monitoring_form_submit(actor=admin, form_id=form.pk, **values)

    assert refused("late_reason_required", submit()).code == "late_reason_required"
    assert refused("invalid", submit(method="pigeon")).code == "invalid"
    assert refused("invalid", submit(submitted_on=today + timedelta(days=1),
                              late_reason="x")).code == "invalid"  # fmt: skip
    submit(late_reason="REMS portal was down all week.")()
    [row] = selectors.monitoring_form_queue(actor=admin, state="submitted_late")
    assert row.form.late_reason.startswith("REMS portal")
    assert refused("submitted", submit(late_reason="again")).code == "submitted"


def test_the_pdf_carries_the_answers(world, team, session_clock):
    from ketacare.rems.pdf import monitoring_form_pdf

    session = _esketamine_session_discharged(world, team, session_clock)
    form = MonitoringForm.objects.get(session_id=session.pk)
    nurse = as_actor(world.staff["nurse"], world.clinic_a, "nurse")
    services.monitoring_form_fill(actor=nurse, form_id=form.pk)
    form = services.monitoring_form_sign(actor=nurse, form_id=form.pk)
    pdf = monitoring_form_pdf(form)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1500
