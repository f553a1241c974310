"""The one selector that gathers a patient's misuse facts for the core, as one frozen object.

Sources: verified doses of dosed treatment sessions against each protocol's titration; urine
drug screens and session requests the clinic recorded; craving ratings and bladder checklists
(scored responses). At-home supply (lost doses, early refills), trackers (missed, late, use outside
the plan) and PDMP findings come from `ketacare.athome` (`athome_facts`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ketacare.clinical import misuse as core
from ketacare.clinical.protocols import DeviceDose, FixedStepDose, load_protocols
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_zone, local_date
from ketacare.outcomes.models import ScaleResponse
from ketacare.patients.models import Patient
from ketacare.recovery.athome_facts import athome_events
from ketacare.recovery.models import DrugScreen, ScreenResult, SessionRequest
from ketacare.treatment.models import DoseOrder, DoseOrderStatus

# The instruments the core's rise rules read (data/misuse.toml names them).
CRAVING = core.load_misuse_rules().craving.instrument
BLADDER = core.load_misuse_rules().bladder.instrument


def misuse_facts_for(*, patient: Patient, today: date) -> core.MisuseFacts:
    """Everything the core reads about one patient's misuse risk, gathered once."""
    not_checked: list[str] = []
    doses = _dose_steps(patient, not_checked)
    screens = tuple(
        core.DrugScreen(
            on=row.collected_on,
            substance=row.get_substance_display(),
            result={
                ScreenResult.POSITIVE: core.UDS_POSITIVE,
                ScreenResult.NEGATIVE: core.UDS_NEGATIVE,
            }.get(row.result, core.UDS_INVALID_RESULT),
            expected=row.prescribed,
            confirmed=row.confirmed,
            ref=f"drug_screen:{row.pk}",
        )
        for row in DrugScreen.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    )
    events = [
        core.Fact(
            row.kind,
            row.requested_on,
            row.get_kind_display() + _note(row.note),
            f"session_request:{row.pk}",
        )
        for row in SessionRequest.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    ]
    events += athome_events(patient=patient, now=clock.now())
    craving, bladder = _ratings(patient)
    return core.MisuseFacts(
        today=today,
        doses=doses,
        events=tuple(e for e in events if e.on <= today),
        drug_screens=tuple(s for s in screens if s.on <= today),
        craving=craving,
        bladder=bladder,
        not_checked=tuple(not_checked),
    )


def _note(text: str) -> str:
    return f": {text}" if text else ""


def _ratings(patient: Patient) -> tuple[tuple[core.Rating, ...], tuple[core.Rating, ...]]:
    zone = clinic_zone(patient.clinic)
    rows = ScaleResponse.objects.filter(
        clinic_id=patient.clinic_id,
        patient=patient,
        instrument_id__in=(CRAVING, BLADDER),
        entered_in_error_at__isnull=True,
    ).only("pk", "instrument_id", "total", "recorded_at")
    found: dict[str, list[core.Rating]] = {CRAVING: [], BLADDER: []}
    for row in rows:
        found[row.instrument_id].append(
            core.Rating(local_date(row.recorded_at, zone), row.total, f"scale_response:{row.pk}")
        )
    return tuple(found[CRAVING]), tuple(found[BLADDER])


def _dose_steps(patient: Patient, not_checked: list[str]) -> tuple[core.DoseStep, ...]:
    zone = clinic_zone(patient.clinic)
    protocols = load_protocols()
    orders = (
        DoseOrder.objects.filter(
            clinic_id=patient.clinic_id,
            session__patient=patient,
            status=DoseOrderStatus.VERIFIED,
            session__dosing_started_at__isnull=False,
        )
        .select_related("session")
        .order_by("session__dosing_started_at", "pk")
    )
    steps = []
    for order in orders:
        protocol = protocols.get(order.session.protocol_id)
        started = order.session.dosing_started_at
        if protocol is None or started is None:
            not_checked.append(f"dose order {order.pk}: protocol {order.session.protocol_id!r}")
            continue
        rule = protocol.dose
        on = local_date(started, zone)
        ref = f"dose_order:{order.pk}"
        if isinstance(rule, FixedStepDose):
            steps.append(
                core.DoseStep(
                    on,
                    order.dose_mg,
                    "mg",
                    rule.step_mg,
                    rule.step_up_min_days,
                    rule.range_mg[1],
                    ref,
                )
            )
        elif isinstance(rule, DeviceDose):
            steps.append(
                core.DoseStep(
                    on,
                    order.dose_mg,
                    "mg",
                    Decimal(rule.device_mg),
                    None,
                    Decimal(rule.max_mg),
                    ref,
                )
            )
        elif order.mg_per_kg is not None:
            steps.append(
                core.DoseStep(
                    on,
                    order.mg_per_kg,
                    "mg/kg",
                    rule.titration_step_mg_per_kg,
                    None,
                    rule.range_mg_per_kg[1],
                    ref,
                )
            )
        else:
            not_checked.append(f"dose order {order.pk}: no mg/kg recorded")
    return tuple(steps)
