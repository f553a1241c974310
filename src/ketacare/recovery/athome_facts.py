"""The at-home programme's records as misuse facts (ketacare.athome is read, never written).

Lost or missing doses (supply movements of kind "lost"), refills asked for before the plan's
doses were taken (the refill gate's `refill_too_few_doses`), trackers missed (a dose taken, its
tracker overdue) or late (in after its due time), use outside the plan (the tracker's answer or
red flag), and PDMP checks with findings.
"""

from __future__ import annotations

from datetime import datetime

from ketacare.athome.models import (
    DoseStatus,
    HomeDose,
    HomePrescription,
    PdmpResult,
    RefillDecision,
    SupplyKind,
    SupplyMovement,
)
from ketacare.clinical import athome as home
from ketacare.clinical import misuse as core
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.patients.models import Patient

EARLY_REFILL_CODES = frozenset({home.REFILL_TOO_FEW_DOSES})
USE_OUTSIDE_PLAN_FLAG = "home_use_outside_plan"


def athome_events(*, patient: Patient, now: datetime) -> list[core.Fact]:
    """Every at-home fact of the patient the misuse core reads."""
    zone = clinic_zone(patient.clinic)
    scope = {"clinic_id": patient.clinic_id, "patient_id": patient.pk}
    facts: list[core.Fact] = []
    for row in SupplyMovement.objects.filter(kind=SupplyKind.LOST, **scope):
        note = f": {row.note}" if row.note else ""
        facts.append(
            core.Fact(
                core.DOSE_LOST,
                local_date(row.occurred_at, zone),
                f"{row.units} unit(s) reported lost or missing{note}",
                f"supply_movement:{row.pk}",
            )
        )
    for refill in RefillDecision.objects.filter(**scope):
        if EARLY_REFILL_CODES & set(refill.refused_codes or []):
            facts.append(
                core.Fact(
                    core.EARLY_REFILL,
                    local_date(refill.decided_at, zone),
                    "Refill asked for before the plan's doses were taken",
                    f"refill_decision:{refill.pk}",
                )
            )
    for dose in HomeDose.objects.filter(**scope).exclude(tracker_due_at__isnull=True):
        due = dose.tracker_due_at
        ref = f"home_dose:{dose.pk}"
        if due is None:
            continue
        if dose.tracker_submitted_at is None and dose.status == DoseStatus.TAKEN and due < now:
            facts.append(
                core.Fact(
                    core.TRACKER_MISSED,
                    local_date(due, zone),
                    f"Tracker of home dose {dose.number} not in (due {due:%Y-%m-%d %H:%M})",
                    ref,
                )
            )
        elif dose.tracker_submitted_at is not None and dose.tracker_submitted_at > due:
            facts.append(
                core.Fact(
                    core.TRACKER_LATE,
                    local_date(dose.tracker_submitted_at, zone),
                    f"Tracker of home dose {dose.number} came in late",
                    ref,
                )
            )
        answers = dose.tracker_answers or {}
        if USE_OUTSIDE_PLAN_FLAG in (dose.red_flags or []) or answers.get("use_outside_plan") == 1:
            on = dose.tracker_submitted_at or due
            facts.append(
                core.Fact(
                    core.USE_OUTSIDE_PLAN,
                    local_date(on, zone),
                    f"Use outside the plan reported in the tracker of home dose {dose.number}",
                    ref,
                )
            )
    for rx in HomePrescription.objects.filter(pdmp_result=PdmpResult.FINDINGS, **scope):
        if rx.pdmp_checked_on is None:
            continue
        review = f": {rx.pdmp_review}" if rx.pdmp_review else ""
        facts.append(
            core.Fact(
                core.PDMP_FINDING,
                rx.pdmp_checked_on,
                f"PDMP findings{review}",
                f"home_prescription:{rx.pk}",
            )
        )
    return facts
