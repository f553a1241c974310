"""Records of a clinic for the route walker: a chair, a course and one of its appointments."""

from datetime import timedelta

from django.utils import timezone

from tests.scheduling.factories import ChairFactory, appointment_row, course_row


def _chair(clinic, patient, staff):
    return ChairFactory(clinic=clinic).pk


def _course(clinic, patient, staff):
    return course_row(patient, staff).pk


def _appointment(clinic, patient, staff):
    course = course_row(patient, staff, protocol_id="esketamine_trd", route="esketamine")
    chair = ChairFactory(clinic=clinic)
    return appointment_row(course, chair, timezone.now() + timedelta(days=3)).pk


FACTORIES = {"chair_id": _chair, "course_id": _course, "appointment_id": _appointment}
