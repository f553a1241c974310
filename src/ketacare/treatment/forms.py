"""Forms of the chair-side session page: parse what the nurse or prescriber typed, nothing more.

The rules (limits, who may do what, the dose) live in the services and the core; these forms
only turn text into typed values. Every form carries an idempotency key generated when it is
rendered, and the forms that decide something carry the session version they were shown.
"""

import uuid
from decimal import Decimal
from typing import Any

from django import forms

from ketacare.clinical.instruments import get_instrument
from ketacare.clinical.protocols import (
    Delivery,
    DeviceDose,
    FixedStepDose,
    Protocol,
    WeightBasedDose,
)
from ketacare.kernel.bounds import BoundedForm
from ketacare.treatment.models import (
    MEDICINE_GIVEN_ROUTES,
    MEDICINE_GIVEN_UNITS,
    AdverseEventKind,
    AdverseEventOutcome,
    AdverseEventSeverity,
    Dissociation,
    InfusionChangeKind,
    MonitoringAction,
    PregnancyTest,
    StartDecisionChoices,
)
from ketacare.treatment.vitals import TYPO_BOUNDS

CRITERION_LABELS = {
    "alert": "Alert",
    "oriented": "Oriented",
    "vitals_near_baseline": "Vital signs near baseline",
    "walking_steadily": "Walking steadily",
    "escort_present": "Escort present",
    "sedation_resolved": "Sedation resolved",
    "dissociation_resolved": "Dissociation resolved",
    "respiratory_depression_resolved": "No respiratory depression",
    "vitals_acceptable": "Vital signs acceptable",
    "transport_arranged": "Transport home arranged (no driving until tomorrow)",
}

YES_NO = [("0", "No"), ("1", "Yes")]
DATETIME_WIDGET = forms.DateTimeInput(
    attrs={"type": "datetime-local", "step": 60}, format="%Y-%m-%dT%H:%M"
)


def criterion_label(name: str) -> str:
    """A discharge criterion's label for people."""
    return CRITERION_LABELS.get(name, name.replace("_", " ").capitalize())


def _vital(name: str, label: str, *, required: bool) -> forms.IntegerField:
    low, high = TYPO_BOUNDS[name]
    return forms.IntegerField(
        label=label,
        required=required,
        min_value=low,
        max_value=high,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=DATETIME_WIDGET,
        help_text="Leave empty for now.",
    )


class KeyedForm(BoundedForm):
    """A step form: its idempotency key makes a double submission record once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", uuid.uuid4().hex)
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class VersionedForm(KeyedForm):
    """A decision: it names the session version it was made on (a stale one is refused)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CheckInForm(KeyedForm):
    """Check in for today's appointment (or the course, without one)."""

    appointment_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    course_id = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PreDoseCheckForm(VersionedForm):
    """Today's weight, vital signs, checklist, PHQ-9 and C-SSRS screener."""

    weight_kg = forms.DecimalField(
        label="Today's weight", max_digits=5, decimal_places=1, min_value=Decimal("1")
    )
    weight_unit = forms.ChoiceField(
        label="Unit of the weight",
        choices=[("kg", "kg"), ("lb", "lb")],
        widget=forms.RadioSelect,
        help_text="Say which: a weight in pounds typed as kilograms doubles the dose.",
    )
    confirm_implausible = forms.BooleanField(
        label="Re-weighed and re-measured: the values are right",
        required=False,
        help_text="Only when a weight or vital sign was challenged.",
    )
    height_cm = forms.DecimalField(
        label="Height (cm), if not in the chart",
        required=False,
        max_digits=5,
        decimal_places=1,
        min_value=Decimal("1"),
    )
    systolic = _vital("systolic", "Systolic (mmHg)", required=True)
    diastolic = _vital("diastolic", "Diastolic (mmHg)", required=True)
    heart_rate = _vital("heart_rate", "Heart rate (/min)", required=True)
    respiratory_rate = _vital("respiratory_rate", "Respiratory rate (/min)", required=True)
    spo2 = _vital("spo2", "SpO2 (%)", required=True)
    fasting_confirmed = forms.BooleanField(label="Fasting as instructed", required=False)
    escort_confirmed = forms.BooleanField(label="Escort home confirmed", required=False)
    escort_name = forms.CharField(label="Escort's name", required=False, max_length=200)
    # No preselected answer: "not required" must be chosen, and the core asks the prescriber
    # when it is chosen for a patient who may be pregnant (sex and age).
    pregnancy_test = forms.ChoiceField(
        label="Pregnancy test", choices=PregnancyTest.choices, widget=forms.RadioSelect
    )
    medication_changes = forms.BooleanField(
        label="Medicines changed since the last session", required=False
    )
    medication_changes_note = forms.CharField(
        label="What changed", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        phq9 = get_instrument("phq9")
        for item in phq9.items:
            self.fields[f"phq9_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.number}. {item.text or item.label}",
                choices=[(str(o.value), o.label) for o in item.options],
                coerce=int,
                widget=forms.RadioSelect,
            )
        cssrs = get_instrument("cssrs_screen")
        for item in cssrs.items:
            self.fields[f"cssrs_{item.number}"] = forms.TypedChoiceField(
                label=f"{item.text or item.label}",
                choices=YES_NO,
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                required=item.required_if is None,
            )

    def phq9_fields(self) -> list[forms.BoundField]:
        """The PHQ-9 items, for the template."""
        return [self[name] for name in self.fields if name.startswith("phq9_")]

    def cssrs_fields(self) -> list[forms.BoundField]:
        """The C-SSRS screener items, for the template."""
        return [self[name] for name in self.fields if name.startswith("cssrs_")]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as `predose_check_record` takes them."""
        data = self.cleaned_data
        cssrs = [data.get(name) for name in self.fields if name.startswith("cssrs_")]
        if cssrs and cssrs[-1] is None:
            cssrs = cssrs[:-1]
        return {
            "weight_kg": data["weight_kg"],
            "weight_unit": data["weight_unit"],
            "confirm_implausible": data["confirm_implausible"],
            "height_cm": data.get("height_cm"),
            "systolic": data["systolic"],
            "diastolic": data["diastolic"],
            "heart_rate": data["heart_rate"],
            "respiratory_rate": data["respiratory_rate"],
            "spo2": data["spo2"],
            "fasting_confirmed": data["fasting_confirmed"],
            "escort_confirmed": data["escort_confirmed"],
            "escort_name": data["escort_name"],
            "pregnancy_test": data["pregnancy_test"],
            "medication_changes": data["medication_changes"],
            "medication_changes_note": data["medication_changes_note"],
            "phq9_answers": [data[n] for n in self.fields if n.startswith("phq9_")],
            "cssrs_answers": cssrs,
        }


class StartDecisionForm(VersionedForm):
    """The prescriber's decision on what holds the start."""

    decision = forms.ChoiceField(choices=StartDecisionChoices.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class DoseOrderForm(VersionedForm):
    """The prescriber's order: the inputs the core's dose calculation takes for this route."""

    override_reason = forms.CharField(
        label="Reason for a dose outside the protocol's range (only if the calculation warns)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, protocol: Protocol, **kwargs: Any) -> None:
        dose = protocol.dose
        initial = kwargs.setdefault("initial", {})
        if isinstance(dose, WeightBasedDose):
            initial.setdefault("mg_per_kg", dose.mg_per_kg)
            if "duration_min" in protocol.delivery.order_inputs:
                initial.setdefault("duration_min", dose.duration_min)
        elif isinstance(dose, DeviceDose):
            initial.setdefault("dose_mg", dose.first_dose_mg)
        elif isinstance(dose, FixedStepDose):
            initial.setdefault("dose_mg", dose.start_mg)
        super().__init__(*args, **kwargs)
        fields: dict[str, forms.Field] = {}
        if isinstance(dose, WeightBasedDose):
            fields["mg_per_kg"] = forms.DecimalField(
                label="Dose (mg/kg)", max_digits=6, decimal_places=3, min_value=Decimal("0.001")
            )
            fields["concentration_mg_per_ml"] = forms.DecimalField(
                label="Concentration as prepared (mg/mL)",
                max_digits=7,
                decimal_places=3,
                min_value=Decimal("0.001"),
            )
            if "container_volume_ml" in protocol.delivery.order_inputs:
                fields["container_volume_ml"] = forms.DecimalField(
                    label="Bag or syringe volume (mL)",
                    max_digits=7,
                    decimal_places=1,
                    min_value=Decimal("0.1"),
                )
                fields["duration_min"] = forms.DecimalField(
                    label="Infusion time (min)",
                    max_digits=6,
                    decimal_places=1,
                    min_value=Decimal("1"),
                )
        elif isinstance(dose, DeviceDose):
            fields["dose_mg"] = forms.TypedChoiceField(
                label="Dose",
                choices=[
                    (str(mg), f"{mg} mg ({mg // dose.device_mg} devices)")
                    for mg in range(dose.device_mg, dose.max_mg + 1, dose.device_mg)
                ],
                coerce=int,
                widget=forms.RadioSelect,
            )
        else:
            fields["dose_mg"] = forms.DecimalField(
                label="Dose (mg)", max_digits=7, decimal_places=1, min_value=Decimal("1")
            )
        # The dose inputs come first, the reason last.
        reason = self.fields.pop("override_reason")
        self.fields.update(fields)
        self.fields["override_reason"] = reason

    def inputs(self) -> dict[str, Any]:
        """The dose inputs for the core."""
        names = ("mg_per_kg", "dose_mg", "concentration_mg_per_ml", "container_volume_ml")
        values = {n: self.cleaned_data[n] for n in (*names, "duration_min") if n in self.fields}
        return {k: v for k, v in values.items() if v is not None}


class VerifyForm(VersionedForm):
    """The second clinician's verification."""

    confirm = forms.BooleanField(
        label="I checked the dose, weight and calculation independently of the prescriber",
        required=True,
    )


class ReasonForm(VersionedForm):
    """A step that needs only a reason (rejecting an order, cancelling a session)."""

    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))


class AdministrationStartForm(VersionedForm):
    """What is given: product, lot and, as programmed, concentration, volume and rate."""

    product = forms.CharField(label="Product", max_length=200)
    lot = forms.CharField(label="Lot number", max_length=64)
    started_at = _when("Started at")

    def __init__(self, *args: Any, delivery: Delivery, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        confirm = delivery.confirm_at_start
        if "concentration_mg_per_ml" in confirm:
            self.fields["concentration_mg_per_ml"] = forms.DecimalField(
                label="Concentration (mg/mL)", max_digits=7, decimal_places=3
            )
        if "volume_ml" in confirm:
            self.fields["volume_ml"] = forms.DecimalField(
                label="Volume (mL)", max_digits=7, decimal_places=2
            )
        if "rate_ml_per_h" in confirm:
            self.fields["rate_ml_per_h"] = forms.DecimalField(
                label="Pump rate (mL/h)", max_digits=7, decimal_places=1
            )
        if delivery.devices:
            self.fields["started_at"].label = "First device at"

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as `administration_start` takes them."""
        data = self.cleaned_data
        return {
            "product": data["product"],
            "lot": data["lot"],
            "concentration_mg_per_ml": data.get("concentration_mg_per_ml"),
            "volume_ml": data.get("volume_ml"),
            "rate_ml_per_h": data.get("rate_ml_per_h"),
            "started_at": data.get("started_at"),
        }


class DeviceForm(VersionedForm):
    """The next esketamine device."""

    administered_at = _when("Device used at")


class InfusionChangeForm(KeyedForm):
    """Pause, resume, slow or stop, with the reason."""

    kind = forms.ChoiceField(choices=InfusionChangeKind.choices, widget=forms.RadioSelect)
    rate_ml_per_h = forms.DecimalField(
        label="New pump rate (mL/h), when slowing",
        required=False,
        max_digits=7,
        decimal_places=1,
        min_value=Decimal("0.1"),
    )
    reason = forms.CharField(label="Reason", widget=forms.Textarea(attrs={"rows": 2}))
    at = _when("At")


class CompleteForm(KeyedForm):
    """The infusion ran to its end."""

    stopped_at = _when("Infusion ended at")
    volume_infused_ml = forms.DecimalField(
        label="Volume infused (mL)", required=False, max_digits=7, decimal_places=2
    )


class MonitoringForm(KeyedForm):
    """A reading for the timeline."""

    taken_at = _when("Taken at")
    systolic = _vital("systolic", "Systolic", required=False)
    diastolic = _vital("diastolic", "Diastolic", required=False)
    heart_rate = _vital("heart_rate", "Heart rate", required=False)
    respiratory_rate = _vital("respiratory_rate", "Resp. rate", required=False)
    spo2 = _vital("spo2", "SpO2 %", required=False)
    dissociation = forms.ChoiceField(
        label="Dissociation", choices=[("", "—"), *Dissociation.choices], required=False
    )
    respiratory_depression = forms.BooleanField(
        label="Signs of respiratory depression", required=False
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 1}))
    confirm_implausible = forms.BooleanField(
        label="Re-measured: the value is right", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        item = get_instrument("moaas").items[0]
        self.fields["moaas"] = forms.TypedChoiceField(
            label="MOAA/S",
            choices=[("", "—"), *((str(o.value), f"{o.value} {o.label}") for o in item.options)],
            coerce=int,
            empty_value=None,
            required=False,
        )
        order = [
            "taken_at",
            "systolic",
            "diastolic",
            "heart_rate",
            "respiratory_rate",
            "spo2",
            "moaas",
        ]
        self.order_fields(order)

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as `monitoring_entry_record` takes them."""
        data = self.cleaned_data
        return {
            name: data.get(name)
            for name in (
                "taken_at",
                "systolic",
                "diastolic",
                "heart_rate",
                "respiratory_rate",
                "spo2",
                "moaas",
                "dissociation",
                "respiratory_depression",
                "note",
                "confirm_implausible",
            )
        }


class MonitoringActionForm(KeyedForm):
    """What was done about an alarm."""

    action = forms.ChoiceField(choices=MonitoringAction.choices, widget=forms.RadioSelect)
    rate_ml_per_h = forms.DecimalField(
        label="New pump rate (mL/h), when slowing",
        required=False,
        max_digits=7,
        decimal_places=1,
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 1}))


class AdverseEventForm(KeyedForm):
    """An adverse event."""

    kind = forms.ChoiceField(label="What happened", choices=AdverseEventKind.choices)
    severity = forms.ChoiceField(
        label="Severity", choices=AdverseEventSeverity.choices, widget=forms.RadioSelect
    )
    onset_at = _when("Onset at")
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    intervention = forms.CharField(
        label="Intervention", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # No default: "resolved" pre-selected was recorded for events nobody had followed up.
    outcome = forms.ChoiceField(
        label="Outcome so far", choices=[("", "— choose —"), *AdverseEventOutcome.choices]
    )


# Offered first as the nurse types (any other name is accepted, read by the vocabulary, and
# marked for review when it does not know it).
CHAIR_SIDE_MEDICINES = (
    "ondansetron",
    "midazolam",
    "lorazepam",
    "labetalol",
    "metoprolol",
    "clonidine",
    "diphenhydramine",
    "hydroxyzine",
    "acetaminophen",
)


class MedicineGivenForm(KeyedForm):
    """A medicine given during the session: name, dose with its unit, route, time, why."""

    medicine = forms.CharField(
        label="Medicine",
        max_length=200,
        help_text="Generic or brand name; a name not in the medicine list is marked for review.",
        widget=forms.TextInput(attrs={"list": "medicine-names", "autocomplete": "off"}),
    )
    dose = forms.DecimalField(
        label="Dose", min_value=Decimal("0.001"), max_digits=10, decimal_places=3
    )
    unit = forms.ChoiceField(label="Unit", choices=[("", "— choose —"), *MEDICINE_GIVEN_UNITS])
    route = forms.ChoiceField(label="Route", choices=[("", "— choose —"), *MEDICINE_GIVEN_ROUTES])
    given_at = _when("Given at")
    indication = forms.CharField(
        label="Why (optional)", required=False, widget=forms.Textarea(attrs={"rows": 1})
    )


class DischargeForm(VersionedForm):
    """The discharge checklist of the protocol, the escort, and any prescriber's override."""

    escort_name = forms.CharField(label="Escort's name", required=False, max_length=200)
    override_reason = forms.CharField(
        label="Prescriber's reason to discharge early or with a criterion unmet",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, protocol: Protocol, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria_names = list(protocol.monitoring.discharge_criteria)
        for name in self.criteria_names:
            self.fields[f"criterion_{name}"] = forms.BooleanField(
                label=criterion_label(name), required=False
            )
        if protocol.delivery.rems:
            self.fields["ready_at"] = forms.DateTimeField(
                label="Clinically ready at (REMS asks: when would the patient have been ready "
                "without the two-hour rule?)",
                widget=DATETIME_WIDGET,
            )
        self.order_fields(
            [f"criterion_{n}" for n in self.criteria_names]
            + ["escort_name", "ready_at", "override_reason"]
        )

    def criterion_fields(self) -> list[forms.BoundField]:
        """The checklist, for the template."""
        return [self[f"criterion_{n}"] for n in self.criteria_names]

    def service_arguments(self) -> dict[str, Any]:
        """The cleaned values as `discharge_record` takes them."""
        data = self.cleaned_data
        return {
            "criteria": {n: bool(data.get(f"criterion_{n}")) for n in self.criteria_names},
            "escort_name": data.get("escort_name", ""),
            "ready_at": data.get("ready_at"),
            "override_reason": data.get("override_reason", ""),
        }
