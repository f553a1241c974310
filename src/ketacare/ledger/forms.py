"""The ledger's forms: they parse and name fields; the services decide."""

from typing import Any

from django import forms

from ketacare.ledger.models import (
    ContainerKind,
    CountKind,
    CountTiming,
    StorageKind,
    TheftLossKind,
)

DATE = forms.DateInput(attrs={"type": "date"})


def choices_of(rows: Any, label: Any = str) -> list[tuple[int, str]]:
    """(pk, label) pairs for a select."""
    return [(row.pk, label(row)) for row in rows]


def set_choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    """Give a choice field of a bound or unbound form its choices."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    field.choices = choices


class ReceiveForm(forms.Form):
    """A delivery: where it goes, what it is, from whom."""

    registration_id = forms.TypedChoiceField(coerce=int, label="Registered location")
    storage_id = forms.TypedChoiceField(coerce=int, label="Stored in")
    product_id = forms.TypedChoiceField(coerce=int, label="Product")
    lot = forms.CharField(max_length=64, label="Lot number")
    expires_on = forms.DateField(widget=DATE, label="Lot expiry")
    containers = forms.IntegerField(min_value=1, max_value=500, label="Number of containers")
    label_prefix = forms.CharField(max_length=40, label="Label containers as (prefix)")
    supplier_name = forms.CharField(max_length=200)
    supplier_address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    supplier_dea = forms.CharField(max_length=9, label="Supplier DEA number")
    invoice = forms.CharField(max_length=64)
    received_on = forms.DateField(widget=DATE)


class DrawForm(forms.Form):
    """Draw for this session's dose from a container in stock."""

    container_id = forms.TypedChoiceField(coerce=int, label="Container")
    quantity = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, label="Quantity drawn"
    )


class WasteForm(forms.Form):
    """Waste the remainder of a draw before a witness who re-enters their password."""

    quantity = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, label="Quantity wasted"
    )
    witness_username = forms.CharField(max_length=150, label="Witness (user name)")
    witness_password = forms.CharField(
        widget=forms.PasswordInput, label="Witness's password", strip=False
    )
    reason = forms.CharField(max_length=500, required=False, label="Note")


class ReturnForm(forms.Form):
    """Return an unused part of a draw to stock."""

    quantity = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, label="Quantity returned"
    )


class TransferForm(forms.Form):
    """Move a container to other storage, here or at another registered location."""

    to_registration_id = forms.TypedChoiceField(coerce=int, label="To registered location")
    to_storage_id = forms.TypedChoiceField(coerce=int, label="Stored in")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class OpeningForm(forms.Form):
    """A container already on the shelf brought into the ledger (the initial inventory)."""

    registration_id = forms.TypedChoiceField(coerce=int, label="Registered location")
    storage_id = forms.TypedChoiceField(coerce=int, label="Stored in")
    product_id = forms.TypedChoiceField(coerce=int, label="Product")
    lot = forms.CharField(max_length=64, label="Lot number")
    expires_on = forms.DateField(widget=DATE, label="Lot expiry")
    label = forms.CharField(max_length=40, label="Label (the container becomes <label>-001)")
    quantity = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, label="Quantity in it (in the unit)"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, initial="Initial inventory"
    )


class CorrectionForm(forms.Form):
    """Correct an entry with a new one: a signed change, why, and a co-signer's password."""

    change = forms.DecimalField(
        max_digits=18, decimal_places=3, label="Change to the balance (negative takes stock off)"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    cosigner_username = forms.CharField(max_length=150, label="Co-signer (user name)")
    cosigner_password = forms.CharField(
        widget=forms.PasswordInput, strip=False, label="Co-signer's password"
    )


class CountForm(forms.Form):
    """A count's kind, timing and second counter; one field per container is added by the view."""

    kind = forms.ChoiceField(choices=CountKind.choices)
    timing = forms.ChoiceField(
        choices=[("", "—"), *CountTiming.choices], required=False,
        label="Taken at (inventories)",
    )  # fmt: skip
    second_username = forms.CharField(max_length=150, label="Second counter (user name)")
    second_password = forms.CharField(
        widget=forms.PasswordInput, label="Second counter's password", strip=False
    )

    def __init__(self, *args: Any, containers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.containers = containers
        for c in containers:
            label = f"{c.label} ({c.product.unit})"
            self.fields[f"counted_{c.pk}"] = forms.DecimalField(
                max_digits=18, decimal_places=3, min_value=0, required=False, label=label,
                widget=forms.NumberInput(attrs={"aria-label": label, "step": "0.001"}),
            )  # fmt: skip
            self.fields[f"measured_{c.pk}"] = forms.BooleanField(
                required=False, label="measured",
                widget=forms.CheckboxInput(attrs={"aria-label": f"{c.label} measured"}),
            )  # fmt: skip


class ResolveForm(forms.Form):
    """Resolve a discrepancy: a reason, and optionally an adjustment co-signed by someone else."""

    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    adjust_to = forms.DecimalField(
        max_digits=18,
        decimal_places=3,
        min_value=0,
        required=False,
        label="Adjust the balance to (leave empty for none)",
    )
    cosigner_username = forms.CharField(max_length=150, required=False, label="Co-signer")
    cosigner_password = forms.CharField(
        widget=forms.PasswordInput, required=False, strip=False, label="Co-signer's password"
    )


class DestroyForm(forms.Form):
    """Destruction before two witnesses (DEA Form 41), or to a reverse distributor."""

    quantity = forms.DecimalField(max_digits=18, decimal_places=3, min_value=0)
    method = forms.CharField(max_length=500, label="Method of destruction or transfer")
    witness_username = forms.CharField(max_length=150, label="First witness")
    witness_password = forms.CharField(widget=forms.PasswordInput, strip=False)
    second_witness_username = forms.CharField(max_length=150, label="Second witness")
    second_witness_password = forms.CharField(widget=forms.PasswordInput, strip=False)
    distributor_name = forms.CharField(max_length=200, required=False, label="Reverse distributor")
    distributor_address = forms.CharField(max_length=500, required=False)
    distributor_dea_number = forms.CharField(max_length=9, required=False)


class LossForm(forms.Form):
    """A theft or loss (DEA Form 106 data)."""

    quantity = forms.DecimalField(max_digits=18, decimal_places=3, min_value=0)
    kind = forms.ChoiceField(choices=TheftLossKind.choices)
    discovered_on = forms.DateField(widget=DATE)
    circumstances = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    police_report = forms.CharField(max_length=100, required=False)


class LossUpdateForm(forms.Form):
    """The notice sent and Form 106 filed."""

    notice_sent_on = forms.DateField(widget=DATE, required=False)
    form_106_filed_on = forms.DateField(widget=DATE, required=False)
    form_106_number = forms.CharField(max_length=64, required=False)


class RegistrationForm(forms.Form):
    """A DEA registration for a registered location."""

    name = forms.CharField(max_length=200, label="Location name")
    address = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    dea_number = forms.CharField(max_length=9, label="DEA number")
    valid_from = forms.DateField(widget=DATE)
    valid_until = forms.DateField(widget=DATE, required=False)


class StorageForm(forms.Form):
    """A safe or cabinet."""

    registration_id = forms.TypedChoiceField(coerce=int, label="Registered location")
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=StorageKind.choices)


class ProductForm(forms.Form):
    """A product by NDC."""

    ndc = forms.CharField(max_length=13, label="NDC")
    name = forms.CharField(max_length=200)
    substance = forms.ChoiceField(choices=[("ketamine", "ketamine"), ("esketamine", "esketamine")])
    form = forms.CharField(max_length=60, label="Dosage form")
    strength = forms.CharField(max_length=60)
    unit = forms.ChoiceField(choices=[("mg", "mg"), ("mL", "mL"), ("device", "device"),
                                      ("lozenge", "lozenge")])  # fmt: skip
    mg_per_unit = forms.DecimalField(max_digits=12, decimal_places=3, required=False,
                                     label="mg per unit (not for mg)")  # fmt: skip
    concentration_mg_per_ml = forms.DecimalField(max_digits=9, decimal_places=3, required=False)
    container_kind = forms.ChoiceField(choices=ContainerKind.choices)
    container_size = forms.DecimalField(
        max_digits=18, decimal_places=3, min_value=0, label="Container size (in the unit)"
    )


class ReportForm(forms.Form):
    """A report's period and product."""

    since = forms.DateField(widget=DATE)
    until = forms.DateField(widget=DATE)
    product = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
