"""The SPRAVATO REMS patient monitoring record of an esketamine session."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ketacare.accounts.access import Actor
from ketacare.clinical.eligibility import IntakeFacts, screen
from ketacare.clinical.instruments import get_instrument
from ketacare.clinical.timing import reading_near
from ketacare.errors import Refused
from ketacare.patients.models import Patient
from ketacare.patients.selectors import intake_facts_for
from ketacare.screening.selectors import screening_current_for
from ketacare.treatment import rules
from ketacare.treatment.models import (
    AdverseEvent,
    MonitoringEntry,
    MonitoringPhase,
    SessionStatus,
)
from ketacare.treatment.plans import is_first_treatment
from ketacare.treatment.selectors.record import SessionRecord, session_record

S = SessionStatus


# Display only: which reading the page and the REMS record call "the 40-minute reading" when the
# label says "about 40 minutes". It gates nothing.
ABOUT = timedelta(minutes=10)
# Medicine classes the REMS patient monitoring form asks about (eligibility rule ids of the core).
REMS_MEDICINE_RULES = {
    "benzodiazepines": "Benzodiazepines",
    "sedative_hypnotics": "Other sedative-hypnotics",
    "psychostimulants": "Psychostimulants",
    "maois": "MAOIs",
    "opioids": "Opioids",
}


@dataclass(frozen=True)
class RemsRecord:
    """What the SPRAVATO REMS patient monitoring form asks, from the session's record."""

    record: SessionRecord
    first_treatment: bool
    medicines: list[str]
    medicine_classes: list[str]
    monitoring_clinician: str
    setting: str
    dose_mg: str
    lot: str
    first_device_at: datetime | None
    monitoring_minutes: int | None
    ready_minutes: int | None
    bp_before: MonitoringEntry | None
    bp_at_40: MonitoringEntry | None
    bp_before_discharge: MonitoringEntry | None
    vitals_acceptable_before_dosing: bool
    vitals_acceptable_before_discharge: bool | None
    sedation: bool
    dissociation: bool
    respiratory_depression: bool

    @property
    def adverse_events(self) -> list[AdverseEvent]:
        """The session's adverse events."""
        return self.record.adverse_events

    @property
    def window_minutes(self) -> int:
        """How far from 40 minutes a reading may be and still be "BP at 40 minutes"."""
        return self.record.protocol.monitoring.timeliness.fixed_check_window_min

    @property
    def discharge_window_minutes(self) -> int:
        """How long before discharge a reading may be and still be "BP before discharge"."""
        return 2 * self.window_minutes


def _chart_medicines(patient: Patient, route: str) -> list[str]:
    """The chart's current medicines, else those the current screening saw."""
    chart = intake_facts_for(patient=patient).medicines
    if chart:
        return [str(m) for m in chart]
    screening = screening_current_for(patient=patient, route=route)
    return [str(m) for m in (screening.facts.get("medicines") or [])] if screening else []


def rems_record(*, actor: Actor, session_id: int) -> RemsRecord:
    """The REMS monitoring record of an esketamine session (422 for other routes)."""
    record = session_record(actor=actor, session_id=session_id)
    session = record.session
    if not record.protocol.delivery.rems:
        raise Refused(
            "The REMS monitoring record is for esketamine sessions.",
            field="session_id",
            code="not_esketamine",
        )
    medicines = _chart_medicines(session.patient, session.route)
    classes: list[str] = []
    if medicines:
        result = screen(IntakeFacts(medicines=medicines), protocol=record.protocol)
        fired = {rule.rule_id for rule in result.fired}
        classes = [label for rule_id, label in REMS_MEDICINE_RULES.items() if rule_id in fired]
    first_device = record.devices[0].administered_at if record.devices else None
    discharge = record.discharge
    monitoring_minutes = ready_minutes = None
    if first_device is not None and discharge is not None:
        monitoring_minutes = int((discharge.discharged_at - first_device).total_seconds() // 60)
        if discharge.ready_at is not None:
            ready_minutes = int((discharge.ready_at - first_device).total_seconds() // 60)
    with_bp = [e for e in record.counted_entries if e.systolic is not None]
    before = [e for e in with_bp if e.phase == MonitoringPhase.PRE_DOSE]
    after = [e for e in with_bp if e.phase != MonitoringPhase.PRE_DOSE]
    # The core picks each reading: nearest the fixed check within its window, else missing (a
    # 5-minute reading is never "BP at 40 minutes"); before discharge, the last BP within the
    # twice that window before it (policy: a reading from the end of the observation).
    at_40 = before_discharge = None
    monitoring = record.protocol.monitoring
    window = monitoring.timeliness.fixed_check_window_min
    readings = [(rules.vital_reading(e), e) for e in after]
    if first_device is not None and monitoring.bp_checks_after_dose_min:
        target = first_device + timedelta(minutes=monitoring.bp_checks_after_dose_min[0])
        near = reading_near([r for r, _ in readings], target, window)
        at_40 = next((e for r, e in readings if r is near), None)
    if discharge is not None:
        near = reading_near(
            [r for r, _ in readings if r.taken_at <= discharge.discharged_at],
            discharge.discharged_at,
            2 * window,
        )
        before_discharge = next((e for r, e in readings if r is near), None)
        if before_discharge is not None and before_discharge is at_40:
            before_discharge = None
    order = record.order
    administration = record.administration
    fully_alert = get_instrument("moaas").max_total
    return RemsRecord(
        record=record,
        first_treatment=is_first_treatment(session),
        medicines=medicines,
        medicine_classes=classes,
        monitoring_clinician=(
            discharge.discharged_by.display_name()
            if discharge is not None
            else (administration.started_by.display_name() if administration else "")
        ),
        setting=session.clinic.name,
        dose_mg=str(order.dose_mg.normalize()) if order else "",
        lot=administration.lot if administration else "",
        first_device_at=first_device,
        monitoring_minutes=monitoring_minutes,
        ready_minutes=ready_minutes,
        bp_before=before[-1] if before else None,
        bp_at_40=at_40,
        bp_before_discharge=before_discharge,
        vitals_acceptable_before_dosing=record.clearance.vitals_acceptable,
        vitals_acceptable_before_discharge=(
            discharge.criteria.get("vitals_acceptable") if discharge is not None else None
        ),
        sedation=any(e.moaas is not None and e.moaas < fully_alert for e in record.entries),
        dissociation=any(e.dissociation not in ("", "none") for e in record.entries),
        respiratory_depression=any(
            e.respiratory_depression or any(a["code"] == "spo2_low" for a in e.alarms)
            for e in record.entries
        ),
    )
