"""What a dose calculation returns: the plan, its steps and warnings, and their codes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from ketacare.clinical.errors import InvalidInput, ProtocolViolation
from ketacare.clinical.protocols import DeviceDose, FixedStepDose, Protocol, WeightBasedDose

RuleT = TypeVar("RuleT", WeightBasedDose, FixedStepDose, DeviceDose)

SEXES = ("male", "female")
MINUTES_PER_HOUR = Decimal(60)
CM_PER_M = Decimal(100)
DISPLAY_STEP = Decimal("0.01")

# Warning codes (each needs a prescriber's reason to proceed).
BELOW_RANGE = "below_range"
ABOVE_RANGE = "above_range"
INFUSION_TOO_SHORT = "infusion_too_short"
INFUSION_BELOW_HARD_STOP = "infusion_below_hard_stop"
DELIVERED_DIFFERS = "delivered_differs"
ABOVE_TITRATION_START = "above_titration_start"
TITRATION_STEP_EXCEEDED = "titration_step_exceeded"
STEP_UP_NEEDS_PRESCRIBER = "step_up_needs_prescriber"
STEP_UP_TOO_SOON = "step_up_too_soon"
STEP_UP_INTERVAL_UNKNOWN = "step_up_interval_unknown"
NOT_A_LABEL_DOSE = "not_a_label_dose"
LABEL_FIRST_DOSE = "label_first_dose"

# Hard-stop codes.
ABOVE_CEILING = "above_ceiling"
UNDILUTED = "undiluted_for_iv"

# Dosing-weight flags.
HEIGHT_AT_OR_BELOW_BASE = "height_at_or_below_60_in"
IDEAL_ABOVE_ACTUAL = "ideal_above_actual"
OBESE_IDEAL_USED = "bmi_at_or_above_threshold_ideal_used"


@dataclass(frozen=True)
class DoseStep:
    """One labelled intermediate of a calculation, for the prescriber to check by hand."""

    label: str
    expression: str
    value: Decimal
    unit: str


@dataclass(frozen=True)
class DoseWarning:
    """A reason the dose needs a prescriber's written reason to proceed."""

    code: str
    message: str


@dataclass(frozen=True)
class DosingWeight:
    """The weight a mg/kg dose is calculated on, with how it was derived."""

    basis: str
    requested_basis: str
    weight_kg: Decimal
    actual_weight_kg: Decimal
    ideal_weight_kg: Decimal | None
    adjusted_weight_kg: Decimal | None
    bmi_kg_per_m2: Decimal | None
    steps: tuple[DoseStep, ...]
    flags: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class DosePlan:
    """A calculated dose with every intermediate, its warnings, and any override reason."""

    protocol_id: str
    route: str
    dose_mg: Decimal
    steps: tuple[DoseStep, ...]
    warnings: tuple[DoseWarning, ...] = ()
    notes: tuple[str, ...] = ()
    override_reason: str | None = None
    mg_per_kg: Decimal | None = None
    dosing_weight: DosingWeight | None = None
    concentration_mg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None
    duration_min: Decimal | None = None
    rate_ml_per_h: Decimal | None = None
    delivered_dose_mg: Decimal | None = None
    calculated_dose_mg: Decimal | None = None
    devices: int | None = None
    rest_between_devices_min: int | None = None

    @property
    def requires_reason(self) -> bool:
        """True when the dose is outside the protocol's range and needs a prescriber's reason."""
        return bool(self.warnings)

    @property
    def may_proceed(self) -> bool:
        """True when there is no warning, or a reason was given for the warnings."""
        return not self.warnings or self.override_reason is not None

    def ensure_may_proceed(self) -> None:
        """Raise ProtocolViolation (the first warning's code) unless the plan may proceed."""
        if not self.may_proceed:
            warning = self.warnings[0]
            raise ProtocolViolation(
                warning.code, f"{warning.message}; a prescriber's reason is needed"
            )


def protocol_rule(protocol: Protocol, kind: type[RuleT], routes: tuple[str, ...]) -> RuleT:
    """The protocol's dose rule, refused unless the protocol is for one of these routes."""
    if not isinstance(protocol, Protocol):
        raise InvalidInput(
            "protocol must be a Protocol (see protocols.get_protocol)", field="protocol"
        )
    if protocol.route not in routes or not isinstance(protocol.dose, kind):
        raise InvalidInput(
            f"protocol {protocol.id} is for route {protocol.route}, not {' or '.join(routes)}",
            field="protocol",
        )
    return protocol.dose


def checked_reason(override_reason: str | None) -> str | None:
    """The prescriber's override reason, stripped; refused when given but empty."""
    if override_reason is None:
        return None
    if not isinstance(override_reason, str) or not override_reason.strip():
        raise InvalidInput(
            "override_reason, when given, must be a non-empty text", field="override_reason"
        )
    return override_reason.strip()
