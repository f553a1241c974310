"""The one facts object every session step reads before it asks the core and writes.

A step locks the session, calls `step_facts` once (a fixed number of queries), asks the core one
question over those facts, and then only writes: nothing is read after the decision.
"""

from dataclasses import dataclass
from datetime import datetime

from ketacare.clinical.clearance import Clearance
from ketacare.clinical.monitoring import VitalReading
from ketacare.clinical.profiles import AlarmThresholds
from ketacare.clinical.protocols import Protocol
from ketacare.clinical.readiness import DoseFacts, Readiness, ReadinessFacts, assess
from ketacare.clinical.timing import RateChange
from ketacare.kernel import clock
from ketacare.scheduling.readiness import readiness_facts
from ketacare.treatment import rules
from ketacare.treatment.models import (
    Administration,
    AlarmPolicy,
    DoseOrder,
    DoseOrderStatus,
    EsketamineDevice,
    InfusionChange,
    MonitoringEntry,
    MonitoringPhase,
    PreDoseCheck,
    StartDecision,
    TreatmentSession,
)
from ketacare.treatment.plans import protocol_of


@dataclass(frozen=True)
class StepFacts:
    """Everything a session step may read: the session's records, the protocol, the clinic's
    alarm policy, and the time, gathered at once under the session's lock."""

    session: TreatmentSession
    protocol: Protocol
    now: datetime
    pre_check: PreDoseCheck | None
    entries: tuple[MonitoringEntry, ...]
    decisions: tuple[StartDecision, ...]
    order: DoseOrder | None
    administration: Administration | None
    devices: tuple[EsketamineDevice, ...]
    changes: tuple[InfusionChange, ...]
    thresholds: AlarmThresholds
    readiness_facts: ReadinessFacts

    @property
    def readiness(self) -> Readiness:
        """The core's readiness for this session: check-in, order and giving the dose."""
        return assess(self.readiness_facts)

    @property
    def readings(self) -> list[VitalReading]:
        """The timeline as the core reads it, oldest first."""
        return [rules.vital_reading(e) for e in self.entries]

    @property
    def clearance(self) -> Clearance:
        """The core's start clearance over these facts."""
        return rules.start_clearance(
            protocol=self.protocol,
            pre_check=self.pre_check,
            entries=self.entries,
            decisions=self.decisions,
            thresholds=self.thresholds,
        )

    @property
    def pre_dose_systolic(self) -> int | None:
        """The last systolic pressure before dosing (for the fall-from-baseline alarm)."""
        anchor, _ = rules.pre_dose_picture(self.entries)
        return anchor.systolic if anchor is not None else None

    @property
    def rate_changes(self) -> list[RateChange]:
        """The infusion's pauses, resumes, slow-downs and stop, as the core reads them."""
        return [RateChange(str(c.kind), c.at, c.rate_ml_per_h) for c in self.changes]

    @property
    def latest_reading(self) -> VitalReading | None:
        """The last reading after dosing began (what discharge must not contradict)."""
        after = [e for e in self.entries if e.phase != MonitoringPhase.PRE_DOSE]
        return rules.vital_reading(after[-1]) if after else None


def step_facts(session: TreatmentSession) -> StepFacts:
    """Read the session's records once, for a step to decide on."""
    protocol = protocol_of(session)
    pre_checks = list(PreDoseCheck.objects.filter(session=session).order_by("recorded_at", "id"))
    orders = list(
        DoseOrder.objects.filter(
            session=session, status__in=[DoseOrderStatus.ORDERED, DoseOrderStatus.VERIFIED]
        ).select_related("ordered_by")
    )
    administration = (
        Administration.objects.filter(session=session).select_related("dose_order").first()
    )
    devices: tuple[EsketamineDevice, ...] = ()
    changes: tuple[InfusionChange, ...] = ()
    if administration is not None:
        devices = tuple(administration.devices.order_by("number"))
        changes = tuple(administration.changes.order_by("at", "id"))
    policy = AlarmPolicy.objects.filter(clinic_id=session.clinic_id).order_by("-changed_at", "-id")
    entries = tuple(
        MonitoringEntry.objects.filter(session=session, entered_in_error_at__isnull=True).order_by(
            "taken_at", "id"
        )
    )
    decisions = tuple(StartDecision.objects.filter(session=session))
    pre_check = pre_checks[-1] if pre_checks else None
    thresholds = rules.alarm_thresholds(protocol, policy.first())
    order = orders[0] if orders else None
    clearance = rules.start_clearance(
        protocol=protocol,
        pre_check=pre_check,
        entries=entries,
        decisions=decisions,
        thresholds=thresholds,
    )
    verified = (
        order is not None
        and order.status == DoseOrderStatus.VERIFIED
        and order.verified_by_id is not None
    )
    readiness = readiness_facts(
        patient=session.patient,
        protocol=protocol,
        course=session.course,
        dose=DoseFacts(
            clearance=clearance,
            order_verified=verified,
            verified_by_other=verified
            and order is not None
            and order.verified_by_id != order.ordered_by_id,
        ),
    )
    return StepFacts(
        session=session,
        protocol=protocol,
        now=clock.now(),
        pre_check=pre_check,
        entries=entries,
        decisions=decisions,
        order=order,
        administration=administration,
        devices=devices,
        changes=changes,
        thresholds=thresholds,
        readiness_facts=readiness,
    )
