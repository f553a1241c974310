"""Supervised treatment sessions: check-in, pre-dose checks, dose, monitoring and discharge.

Every step is a row with its time and the person who did it. Numbers the clinical core computed
(the dose plan with its steps, alarms, the discharge check) are stored as the core returned them,
beside the values, so the page can show the working and an auditor can re-derive it.
"""

from ketacare.treatment.models.aftercare import (
    FINAL_ADVERSE_EVENT_OUTCOMES,
    MEDICINE_GIVEN_ROUTES,
    MEDICINE_GIVEN_UNITS,
    AdverseEvent,
    AdverseEventFollowUp,
    AdverseEventKind,
    AdverseEventOutcome,
    AdverseEventSeverity,
    AlarmPolicy,
    Discharge,
    MedicineGiven,
    SessionSubmission,
)
from ketacare.treatment.models.dosing import (
    Administration,
    AdministrationState,
    DoseOrder,
    DoseOrderStatus,
    EsketamineDevice,
    InfusionChange,
    InfusionChangeKind,
)
from ketacare.treatment.models.session import (
    LIVE_SESSION_STATUSES,
    Dissociation,
    MonitoringAction,
    MonitoringEntry,
    MonitoringPhase,
    PreDoseCheck,
    PregnancyTest,
    SessionStatus,
    StartDecision,
    StartDecisionChoices,
    TreatmentSession,
)

__all__ = [
    "SessionStatus",
    "LIVE_SESSION_STATUSES",
    "TreatmentSession",
    "MonitoringPhase",
    "Dissociation",
    "MonitoringAction",
    "MonitoringEntry",
    "PregnancyTest",
    "PreDoseCheck",
    "StartDecisionChoices",
    "StartDecision",
    "DoseOrderStatus",
    "DoseOrder",
    "AdministrationState",
    "Administration",
    "EsketamineDevice",
    "InfusionChangeKind",
    "InfusionChange",
    "AdverseEventKind",
    "AdverseEventSeverity",
    "AdverseEventOutcome",
    "AdverseEvent",
    "AdverseEventFollowUp",
    "MedicineGiven",
    "Discharge",
    "SessionSubmission",
    "AlarmPolicy",
    "FINAL_ADVERSE_EVENT_OUTCOMES",
    "MEDICINE_GIVEN_UNITS",
    "MEDICINE_GIVEN_ROUTES",
]
