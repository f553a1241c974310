"""The tables a network is written into, and PHQ-9 answers scored once by the core."""

from __future__ import annotations

from ketacare.clinical.instruments import get_instrument, score
from ketacare.consent.models import ConsentSignature
from ketacare.outcomes.models import QuestionnaireAssignment, SafetyAlert, ScaleResponse
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Appointment, Course
from ketacare.screening.models import Screening
from ketacare.synth.bulk import TableWriter, db_json
from ketacare.treatment.models import MonitoringEntry, TreatmentSession


class Writers:
    def __init__(self) -> None:
        self.patient = TableWriter(
            Patient,
            ["id", "clinic_id", "mrn", "given_name", "family_name", "date_of_birth", "sex"]
            + ["email", "phone", "created_at", "updated_at", "intake_status"],
        )
        self.screening = TableWriter(
            Screening,
            ["id", "clinic_id", "patient_id", "protocol_id", "protocol_version", "route", "status"]
            + ["run_by_id", "run_at", "signed_by_id", "signed_at"],
        )
        self.consent = TableWriter(
            ConsentSignature,
            ["id", "clinic_id", "patient_id", "document_version_id", "signed_name", "signed_at"]
            + ["body_sha256", "witnessed_by_id", "recorded_by_id", "recorded_at"],
        )
        self.course = TableWriter(
            Course,
            ["id", "clinic_id", "patient_id", "protocol_id", "protocol_version", "route", "kind"]
            + ["status", "parent_id", "screening_id", "consent_id", "planned_sessions"]
            + ["started_on", "created_by_id", "created_at", "ended_at", "end_reason"],
        )
        self.appointment = TableWriter(
            Appointment,
            ["id", "clinic_id", "patient_id", "course_id", "chair_id", "kind", "starts_at"]
            + ["ends_at", "status", "created_by_id", "created_at"],
        )
        self.session = TableWriter(
            TreatmentSession,
            ["id", "clinic_id", "patient_id", "course_id", "appointment_id", "protocol_id"]
            + ["protocol_version", "route", "status", "created_by_id", "created_at"]
            + ["checked_in_by_id", "checked_in_at", "dosing_started_at", "dosing_ended_at"]
            + ["discharged_at"],
        )
        self.reading = TableWriter(
            MonitoringEntry,
            ["id", "clinic_id", "session_id", "phase", "taken_at", "systolic", "diastolic"]
            + ["heart_rate", "spo2", "moaas", "dissociation", "recorded_by_id", "recorded_at"],
        )
        self.response = TableWriter(
            ScaleResponse,
            ["id", "clinic_id", "patient_id", "instrument_id", "answers", "total", "band"]
            + ["alerts", "source", "recorded_at", "entered_by_id"],
        )
        self.assignment = TableWriter(
            QuestionnaireAssignment,
            ["id", "clinic_id", "patient_id", "instrument_id", "trigger", "slot", "course_id"]
            + ["opens_at", "due_by", "status", "completed_at", "response_id", "created_at"],
        )
        self.alert = TableWriter(
            SafetyAlert,
            ["id", "clinic_id", "patient_id", "code", "severity", "meaning", "response_id"]
            + ["evidence", "status", "raised_at", "acknowledged_by_id", "acknowledged_at"]
            + ["resolved_by_id", "resolved_at", "resolution_note"],
        )

    def all(self) -> list[TableWriter]:
        return [w for w in vars(self).values() if isinstance(w, TableWriter)]

    def flush(self) -> None:
        for writer in self.all():
            writer.flush()


class Phq9Scores:
    """PHQ-9 answers for a total, scored once by the core and remembered."""

    def __init__(self) -> None:
        self.instrument = get_instrument("phq9")
        self.cache: dict[tuple[int, int], tuple[str, int, str, str]] = {}

    def phq9(self, total: int, item9: int) -> tuple[str, int, str, str]:
        total = max(item9, min(27, total))
        key = (total, item9)
        if key not in self.cache:
            answers = [0] * 9
            answers[8] = item9
            left = total - item9
            for i in range(8):
                answers[i] = min(3, left // (8 - i) + (1 if left % (8 - i) else 0))
                left -= answers[i]
            result = score("phq9", answers)
            self.cache[key] = (
                db_json(list(result.item_scores)),
                result.total,
                result.band,
                db_json(list(result.alerts)),
            )
        return self.cache[key]
