"""The dose: its order and verification, administration, esketamine devices, infusion changes."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.kernel.choices import DANGER, OK, WARN, ColouredChoices
from ketacare.treatment.models.session import (
    MonitoringEntry,
    PreDoseCheck,
    TreatmentSession,
)


class DoseOrderStatus(ColouredChoices):
    """An order is verified by a second clinician, or rejected (and a new one written)."""

    ORDERED = "ordered", "Awaiting verification"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"

    @classmethod
    def badge_colours(cls) -> dict[str, str]:
        """Badge colours of the statuses that are not plain."""
        return {
            cls.VERIFIED: OK,
            cls.ORDERED: WARN,
            cls.REJECTED: DANGER,
        }


class DoseOrder(models.Model):
    """The prescriber's order of the dose the core computed, and its independent verification."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="dose_orders"
    )
    pre_check = models.ForeignKey(PreDoseCheck, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=DoseOrderStatus.choices, default=DoseOrderStatus.ORDERED
    )
    route = models.CharField(max_length=20)
    inputs = models.JSONField(help_text="What the core was given.")
    plan = models.JSONField(help_text="The core's dose plan with every intermediate step.")
    dose_mg = models.DecimalField(max_digits=7, decimal_places=2)
    mg_per_kg = models.DecimalField(max_digits=6, decimal_places=3, null=True, blank=True)
    dosing_weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_basis = models.CharField(max_length=40, blank=True)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    container_volume_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    duration_min = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    devices = models.PositiveSmallIntegerField(null=True, blank=True)
    rest_between_devices_min = models.PositiveSmallIntegerField(null=True, blank=True)
    warnings = models.JSONField(default=list)
    override_reason = models.TextField(blank=True)
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            # The second check is worth nothing if the orderer can do it.
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True)
                | ~models.Q(verified_by=models.F("ordered_by")),
                name="dose_verifier_differs_from_orderer",
            ),
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | models.Q(verified_at__isnull=False),
                name="dose_verification_is_dated",
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=models.Q(status__in=["ordered", "verified"]),
                name="one_live_dose_order_per_session",
            ),
        ]
        ordering = ["ordered_at", "id"]

    def __str__(self) -> str:
        return f"{self.dose_mg} mg {self.route} ({self.status}) in session {self.session_id}"


class AdministrationState(models.TextChoices):
    """Where the dosing stands."""

    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    STOPPED = "stopped", "Stopped early"
    COMPLETED = "completed", "Completed"


class Administration(models.Model):
    """The dose as given: product, lot, concentration, volume, rate, times, and who gave it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    session = models.OneToOneField(
        TreatmentSession, on_delete=models.PROTECT, related_name="administration"
    )
    dose_order = models.OneToOneField(
        DoseOrder, on_delete=models.PROTECT, related_name="administration"
    )
    product = models.CharField(max_length=200)
    lot = models.CharField(max_length=64)
    concentration_mg_per_ml = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True
    )
    volume_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    current_rate_ml_per_h = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True
    )
    state = models.CharField(
        max_length=20, choices=AdministrationState.choices, default=AdministrationState.RUNNING
    )
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    volume_infused_ml = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stopped_at__isnull=True)
                | models.Q(stopped_at__gte=models.F("started_at")),
                name="administration_stops_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} lot {self.lot} in session {self.session_id}"


class EsketamineDevice(models.Model):
    """One esketamine nasal device used under supervision, at its time."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="devices"
    )
    number = models.PositiveSmallIntegerField()
    administered_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "number"], name="device_number_unique"
            ),
        ]
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Device {self.number} at {self.administered_at:%H:%M}"


class InfusionChangeKind(models.TextChoices):
    """A change to running dosing; each needs a reason."""

    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    SLOW = "slow", "Slow"
    STOP = "stop", "Stop"


class InfusionChange(models.Model):
    """A pause, resume, slowing or early stop of the dosing, with its reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="changes"
    )
    kind = models.CharField(max_length=10, choices=InfusionChangeKind.choices)
    at = models.DateTimeField()
    rate_ml_per_h = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    reason = models.TextField()
    monitoring_entry = models.ForeignKey(
        MonitoringEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="infusion_change_reason"),
        ]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%H:%M}"
