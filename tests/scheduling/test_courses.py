"""Starting courses: the core proposes the sessions; screening and consent gate the start."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import PermissionDenied

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.clinical import InvalidInput
from ketacare.errors import Refused
from ketacare.scheduling import services
from ketacare.scheduling.models import Appointment, AppointmentKind, Course, CourseKind
from ketacare.screening.models import ScreeningStatus
from tests.factories import PatientFactory, member
from tests.scheduling.factories import (
    ChairFactory,
    appointment_row,
    consent_for,
    consent_version,
    local,
    next_monday,
    ready_for,
    screening_for,
)

pytestmark = pytest.mark.django_db


def actor(world, role="prescriber"):
    return Actor(user=world.staff[role], clinic=world.clinic_a, role=Role(role))


def start(world, *, protocol_id="iv_induction_6x", chair=None, start_on=None, **extra):
    return services.course_start(
        actor=actor(world),
        patient=world.patient_a,
        protocol_id=protocol_id,
        start_on=start_on or next_monday(world.clinic_a),
        chair=chair or ChairFactory(clinic=world.clinic_a),
        first_time=time(9, 0),
        **extra,
    )


def refused_code(world, **extra):
    before = (Course.objects.count(), Appointment.objects.count())
    with pytest.raises(Refused) as refusal:
        start(world, **extra)
    assert (Course.objects.count(), Appointment.objects.count()) == before
    return refusal.value


def test_a_course_books_every_session_the_core_proposes_in_one_chair_at_one_time(world):
    # given a patient screened and consented for IV, and a chair
    ready_for(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    # when the prescriber starts a six-infusion induction on a Monday
    course = start(world, chair=chair, start_on=monday)
    # then six sessions are booked Monday, Wednesday, Friday for two weeks at 09:00 local
    sessions = list(course.appointments.order_by("starts_at"))
    offsets = [(s.starts_at - local(world.clinic_a, monday, 9)).days for s in sessions]
    assert offsets == [0, 2, 4, 7, 9, 11]
    assert {s.chair_id for s in sessions} == {chair.pk}
    assert {s.kind for s in sessions} == {AppointmentKind.TREATMENT}
    # and each session holds the chair for the infusion and the observation (40 + 30 minutes)
    assert {s.ends_at - s.starts_at for s in sessions} == {timedelta(minutes=70)}
    assert (course.kind, course.planned_sessions, course.protocol_version) == (
        CourseKind.INDUCTION,
        6,
        "2025.1",
    )
    assert course.screening.route == "iv" and course.consent.patient_id == world.patient_a.pk


def test_starting_a_course_is_audited_with_every_booking(world):
    ready_for(world.patient_a, world.staff)
    course = start(world)
    entries = AuditEntry.objects.filter(patient_id=world.patient_a.pk, action="create")
    assert entries.filter(object_type="course", object_id=str(course.pk)).count() == 1
    assert entries.filter(object_type="appointment").count() == 6


def test_only_a_prescriber_starts_a_course(world):
    ready_for(world.patient_a, world.staff)
    with pytest.raises(PermissionDenied):
        services.course_start(
            actor=actor(world, "nurse"),
            patient=world.patient_a,
            protocol_id="iv_induction_6x",
            start_on=next_monday(world.clinic_a),
            chair=ChairFactory(clinic=world.clinic_a),
            first_time=time(9),
        )


def test_a_course_without_consent_is_refused(world):
    # given a signed screening but no consent for the route
    screening_for(world.patient_a, world.staff["prescriber"])
    # when / then
    assert refused_code(world).code == "consent_missing"


def test_a_course_whose_consent_was_withdrawn_is_refused(world):
    screening_for(world.patient_a, world.staff["prescriber"])
    signature = consent_for(world.patient_a, world.staff["nurse"])
    signature.withdrawn_at, signature.withdrawn_reason = signature.signed_at, "changed mind"
    signature.save()
    assert refused_code(world).code == "consent_missing"


def test_a_course_on_an_older_consent_text_is_refused_until_re_consent(world):
    # given a consent signed, then a new text published
    ready_for(world.patient_a, world.staff)
    consent_version(world.clinic_a, world.staff["admin"])
    # then the course waits for the patient to sign the new text
    refusal = refused_code(world)
    assert refusal.code == "consent_outdated" and "version 2" in refusal.message


def test_a_consent_for_another_route_does_not_count(world):
    screening_for(world.patient_a, world.staff["prescriber"])
    consent_for(world.patient_a, world.staff["nurse"], route="esketamine")
    assert refused_code(world).code == "consent_missing"


def test_a_course_without_a_screening_is_refused(world):
    consent_for(world.patient_a, world.staff["nurse"])
    assert refused_code(world).code == "screening_missing"


def test_a_course_whose_screening_is_unsigned_is_refused(world):
    screening_for(world.patient_a, world.staff["prescriber"], signed=False)
    consent_for(world.patient_a, world.staff["nurse"])
    refusal = refused_code(world)
    assert refusal.code == "screening_unsigned" and refusal.field == "screening"


def test_an_ineligible_screening_without_a_co_signature_is_refused(world):
    # given an ineligible screening signed with a reason but not co-signed
    screening_for(
        world.patient_a,
        world.staff["prescriber"],
        status=ScreeningStatus.INELIGIBLE,
        reason="Benefit outweighs risk: BP controlled since.",
    )
    consent_for(world.patient_a, world.staff["nurse"])
    # then
    assert refused_code(world).code == "screening_needs_cosignature"


def test_an_ineligible_screening_with_a_reason_and_a_co_signature_allows_a_course(world):
    second = member(world.clinic_a, Role.PRESCRIBER, "a.prescriber2")
    screening_for(
        world.patient_a,
        world.staff["prescriber"],
        status=ScreeningStatus.INELIGIBLE,
        reason="Benefit outweighs risk.",
        cosigner=second,
    )
    consent_for(world.patient_a, world.staff["nurse"])
    assert start(world).appointments.count() == 6


def test_a_screening_needing_review_signed_without_a_reason_is_refused(world):
    screening_for(world.patient_a, world.staff["prescriber"], status=ScreeningStatus.NEEDS_REVIEW)
    consent_for(world.patient_a, world.staff["nurse"])
    assert refused_code(world).code == "screening_needs_reason"


def test_a_course_whose_screening_is_out_of_date_is_refused(world):
    # given a screening that relied on a blood pressure the chart no longer holds
    screening_for(
        world.patient_a,
        world.staff["prescriber"],
        facts={"systolic_mmhg": 128},
        facts_used=["systolic_mmhg"],
    )
    consent_for(world.patient_a, world.staff["nurse"])
    # then
    refusal = refused_code(world)
    assert refusal.code == "screening_out_of_date" and "systolic_mmhg" in refusal.message


def test_a_trd_protocol_needs_a_screening_that_checked_treatment_resistance(world):
    # given an esketamine screening run for the suicidal-ideation protocol (no TRD rule)
    screening_for(
        world.patient_a,
        world.staff["prescriber"],
        route="esketamine",
        protocol_id="esketamine_suicidal",
    )
    consent_for(world.patient_a, world.staff["nurse"], route="esketamine")
    # then the TRD protocol is refused
    assert refused_code(world, protocol_id="esketamine_trd").code == "screening_wrong_protocol"


def test_a_course_is_refused_whole_when_one_proposed_session_finds_its_chair_taken(world):
    # given the chair is taken on the Wednesday of the proposed course
    ready_for(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    monday = next_monday(world.clinic_a)
    other = PatientFactory(clinic=world.clinic_a)
    appointment_row(
        None,
        chair,
        local(world.clinic_a, monday + timedelta(days=2), 9, 30),
        patient=other,
        kind=AppointmentKind.CONSULT,
        by=world.staff["front_desk"],
    )
    # when / then the whole course is refused, naming the session
    refusal = refused_code(world, chair=chair, start_on=monday)
    assert refusal.code == "chair_taken"
    assert "Session 2" in refusal.message


def test_a_second_active_course_on_the_same_route_is_refused(world):
    ready_for(world.patient_a, world.staff)
    first = start(world)
    refusal = refused_code(world, start_on=next_monday(world.clinic_a, weeks_ahead=4))
    assert refusal.code == "course_active" and str(first.pk) in refusal.message


def test_a_course_cannot_start_in_the_past(world):
    ready_for(world.patient_a, world.staff)
    yesterday = next_monday(world.clinic_a) - timedelta(days=14)
    assert refused_code(world, start_on=yesterday).code == "in_the_past"


def test_an_open_ended_protocol_is_proposed_to_the_end_of_its_last_fixed_phase(world):
    # given esketamine for TRD: twice weekly weeks 1-4, weekly weeks 5-8, then open-ended
    ready_for(world.patient_a, world.staff, route="esketamine")
    # when
    course = start(world, protocol_id="esketamine_trd")
    # then 8 + 4 sessions are booked and the course stays open-ended
    assert course.appointments.count() == 12
    assert course.planned_sessions is None


def test_an_open_ended_protocol_without_a_number_of_sessions_needs_one(world):
    ready_for(world.patient_a, world.staff)
    with pytest.raises(InvalidInput):
        start(world, protocol_id="iv_booster")


def test_a_course_submitted_twice_with_the_same_key_is_recorded_once(world):
    ready_for(world.patient_a, world.staff)
    chair = ChairFactory(clinic=world.clinic_a)
    first = start(world, chair=chair, idempotency_key="form-123")
    again = start(world, chair=chair, idempotency_key="form-123")
    assert again.pk == first.pk
    assert Course.objects.count() == 1 and Appointment.objects.count() == 6
