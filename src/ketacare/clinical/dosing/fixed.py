"""Fixed-step doses: sublingual or oral ketamine in steps, esketamine in 28 mg devices."""

from __future__ import annotations

from decimal import Decimal

from ketacare.clinical.dosing.plan import (
    ABOVE_CEILING,
    ABOVE_RANGE,
    ABOVE_TITRATION_START,
    BELOW_RANGE,
    LABEL_FIRST_DOSE,
    NOT_A_LABEL_DOSE,
    STEP_UP_INTERVAL_UNKNOWN,
    STEP_UP_NEEDS_PRESCRIBER,
    STEP_UP_TOO_SOON,
    TITRATION_STEP_EXCEEDED,
    DosePlan,
    DoseStep,
    DoseWarning,
    checked_reason,
    protocol_rule,
)
from ketacare.clinical.errors import HardStop, InvalidInput
from ketacare.clinical.protocols import DeviceDose, FixedStepDose, Protocol
from ketacare.clinical.units import show, to_decimal


def oral_dose(
    *,
    protocol: Protocol,
    dose_mg: object,
    previous_dose_mg: object = None,
    days_since_last_increase: int | None = None,
    override_reason: str | None = None,
) -> DosePlan:
    """A sublingual or oral dose in the protocol's fixed steps; a step up needs a prescriber."""
    rule = protocol_rule(protocol, FixedStepDose, ("sublingual", "oral"))
    dose = to_decimal(dose_mg, "dose_mg")
    previous = (
        None if previous_dose_mg is None else to_decimal(previous_dose_mg, "previous_dose_mg")
    )
    reason = checked_reason(override_reason)
    if dose > rule.hard_stop_above_mg:
        raise HardStop(
            f"{show(dose)} mg is above the {show(rule.hard_stop_above_mg)} mg per-session ceiling "
            f"for {protocol.route} ketamine; no override",
            code=ABOVE_CEILING,
        )
    if dose % rule.step_mg:
        raise InvalidInput(
            f"{show(dose)} mg is not one of the protocol's {show(rule.step_mg)} mg steps",
            field="dose_mg",
        )
    steps = [
        DoseStep("Dose", f"{show(dose / rule.step_mg)} × {show(rule.step_mg)} mg steps", dose, "mg")
    ]
    warnings = []
    low, high = rule.range_mg
    if dose < low or dose > high:
        code = BELOW_RANGE if dose < low else ABOVE_RANGE
        warnings.append(
            DoseWarning(
                code, f"{show(dose)} mg is outside the protocol's {show(low)}-{show(high)} mg"
            )
        )
    if previous is None and dose > rule.start_mg:
        warnings.append(
            DoseWarning(
                ABOVE_TITRATION_START,
                f"a first dose of {show(dose)} mg is above the start of {show(rule.start_mg)} mg",
            )
        )
    if previous is not None and dose > previous:
        steps.append(
            DoseStep("Step up", f"{show(dose)} mg − {show(previous)} mg", dose - previous, "mg")
        )
        warnings.append(
            DoseWarning(
                STEP_UP_NEEDS_PRESCRIBER, f"a step up from {show(previous)} mg needs the prescriber"
            )
        )
        if dose - previous > rule.step_mg:
            warnings.append(
                DoseWarning(
                    TITRATION_STEP_EXCEEDED,
                    f"{show(previous)} → {show(dose)} mg is more than one {show(rule.step_mg)} mg "
                    "step",
                )
            )
        if days_since_last_increase is None:
            warnings.append(
                DoseWarning(
                    STEP_UP_INTERVAL_UNKNOWN, "the days since the last increase are not known"
                )
            )
        elif days_since_last_increase < rule.step_up_min_days:
            warnings.append(
                DoseWarning(
                    STEP_UP_TOO_SOON,
                    f"{days_since_last_increase} days since the last increase; steps are at least "
                    f"{rule.step_up_min_days} days apart",
                )
            )
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        override_reason=reason,
    )


sublingual_dose = oral_dose


def esketamine_dose(
    *,
    protocol: Protocol,
    dose_mg: object,
    first_session: bool,
    override_reason: str | None = None,
) -> DosePlan:
    """An esketamine dose as a count of 28 mg devices with the rest between devices."""
    rule = protocol_rule(protocol, DeviceDose, ("esketamine",))
    dose = to_decimal(dose_mg, "dose_mg")
    reason = checked_reason(override_reason)
    if dose > rule.max_mg:
        raise HardStop(
            f"{show(dose)} mg is above the {rule.max_mg} mg esketamine maximum per session "
            "(SPRAVATO PI); no override",
            code=ABOVE_CEILING,
        )
    if dose % rule.device_mg:
        raise InvalidInput(
            f"{show(dose)} mg is not a whole number of {rule.device_mg} mg devices", field="dose_mg"
        )
    devices = int(dose / rule.device_mg)
    rest = rule.rest_between_devices_min
    steps = [
        DoseStep(
            "Devices",
            f"{show(dose)} mg ÷ {rule.device_mg} mg per device",
            Decimal(devices),
            "devices",
        )
    ]
    steps += [
        DoseStep(
            f"Device {number}",
            f"{rule.device_mg} mg (one spray per nostril) at minute",
            Decimal((number - 1) * rest),
            "min",
        )
        for number in range(1, devices + 1)
    ]
    steps.append(
        DoseStep(
            "Last device",
            f"({devices} − 1) × {rest} min rest",
            Decimal((devices - 1) * rest),
            "min",
        )
    )
    warnings = []
    if int(dose) not in rule.allowed_mg:
        allowed = " or ".join(str(mg) for mg in rule.allowed_mg)
        warnings.append(
            DoseWarning(NOT_A_LABEL_DOSE, f"{show(dose)} mg is not a label dose ({allowed} mg)")
        )
    if first_session and int(dose) != rule.first_dose_mg:
        warnings.append(
            DoseWarning(
                LABEL_FIRST_DOSE,
                f"the label's first dose for this protocol is {rule.first_dose_mg} mg",
            )
        )
    return DosePlan(
        protocol_id=protocol.id,
        route=protocol.route,
        dose_mg=dose,
        steps=tuple(steps),
        warnings=tuple(warnings),
        override_reason=reason,
        devices=devices,
        rest_between_devices_min=rest,
    )
