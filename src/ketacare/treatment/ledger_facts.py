"""What the ledger and the REMS app learn about sessions: the facts treatment provides them.

The ledger and the REMS app sit below treatment and never import it; treatment registers
these sources when it starts (`TreatmentConfig.ready`).
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

from ketacare.accounts.access import Actor
from ketacare.clinical import rems as rems_rules
from ketacare.ledger.sessions import SessionFact
from ketacare.rems.selectors import certification_current, enrolment_of
from ketacare.treatment.delivered import delivered_mg
from ketacare.treatment.models import AdministrationState, TreatmentSession
from ketacare.treatment.selectors import local_day, rems_record

DOSING_ENDED = (AdministrationState.COMPLETED, AdministrationState.STOPPED)


def _fact(session: TreatmentSession) -> SessionFact:
    administration = getattr(session, "administration", None)
    dosed = administration is not None and administration.state in DOSING_ENDED
    return SessionFact(
        session_id=session.pk,
        clinic_id=session.clinic_id,
        patient_id=session.patient_id,
        route=session.route,
        day=local_day(session.checked_in_at, session.clinic),
        delivered_mg=delivered_mg(administration) if dosed and administration else None,
        dosed=dosed,
    )


class TreatmentSessionSource:
    """Sessions as the ledger sees them."""

    def session(self, *, clinic_id: int, session_id: int) -> SessionFact | None:
        """One session of the clinic, or None."""
        session = (
            TreatmentSession.objects.filter(pk=session_id, clinic_id=clinic_id)
            .select_related("clinic", "administration__dose_order")
            .first()
        )
        return _fact(session) if session is not None else None

    def dosed_sessions(
        self, *, clinic_id: int, since: date | None, until: date | None
    ) -> Sequence[SessionFact]:
        """Every session of the clinic whose dosing has ended (a dose was given)."""
        sessions = (
            TreatmentSession.objects.filter(
                clinic_id=clinic_id, administration__state__in=DOSING_ENDED
            )
            .select_related("clinic", "administration__dose_order")
            .order_by("pk")
        )
        facts = [_fact(s) for s in sessions]
        return [
            f
            for f in facts
            if (since is None or f.day >= since) and (until is None or f.day <= until)
        ]


def _bp(entry: Any) -> str:
    return f"{entry.systolic}/{entry.diastolic}" if entry is not None else ""


class TreatmentFormSource:
    """The Patient Monitoring Form's answers, from the session record."""

    def answers(self, *, actor: Actor, session_id: int) -> dict[str, Any]:
        """Each field of the form by id, from the REMS record of the session."""
        rems = rems_record(actor=actor, session_id=session_id)
        session = rems.record.session
        patient = session.patient
        day = local_day(session.checked_in_at, session.clinic)
        enrolment = enrolment_of(patient_id=patient.pk)
        certification = certification_current(clinic_id=session.clinic_id, on=day)
        return {
            "patient_name": patient.display_name,
            "date_of_birth": patient.date_of_birth.isoformat(),
            "sex": patient.get_sex_display(),
            "rems_patient_id": enrolment.rems_patient_id if enrolment else "",
            "enrolled_on": enrolment.enrolled_on.isoformat() if enrolment else "",
            "first_treatment": rems.first_treatment,
            "concomitant_classes": rems.medicine_classes,
            "monitoring_clinician": rems.monitoring_clinician,
            "setting": rems.setting,
            "certification_id": certification.certification_id if certification else "",
            "session_date": day.isoformat(),
            "dose": rems_rules.dose_choice(rems.dose_mg) if rems.dose_mg else "",
            "dose_mg": rems.dose_mg,
            "lot": rems.lot,
            "monitoring_minutes": rems.monitoring_minutes,
            "ready_minutes": rems.ready_minutes,
            "vitals_acceptable_before_dosing": rems.vitals_acceptable_before_dosing,
            "vitals_acceptable_before_discharge": rems.vitals_acceptable_before_discharge,
            "bp_before": _bp(rems.bp_before),
            "bp_at_40": _bp(rems.bp_at_40),
            "bp_before_discharge": _bp(rems.bp_before_discharge),
            "sedation": rems.sedation,
            "dissociation": rems.dissociation,
            "respiratory_depression": rems.respiratory_depression,
            "adverse_events": [
                f"{e.get_kind_display()} ({e.get_severity_display()})" for e in rems.adverse_events
            ],
        }
