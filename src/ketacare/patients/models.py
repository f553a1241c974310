"""Patients: every row carries its clinic's id in its own table."""

from django.db import models

from ketacare.accounts.models import Clinic


class PatientSexChoices(models.TextChoices):
    """Sex assigned at birth: the ideal-body-weight formula needs it."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    """A patient of one clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField(
        "MRN", max_length=32, help_text="Medical record number, unique in the clinic."
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(
        max_length=10, choices=PatientSexChoices.choices, default=PatientSexChoices.UNKNOWN
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every update must name the version it read.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_in_clinic"),
        ]
        indexes = [
            models.Index(fields=["clinic", "family_name", "given_name"], name="patient_clinic_name")
        ]
        ordering = ["family_name", "given_name", "id"]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def initials(self) -> str:
        return f"{self.given_name[:1]}{self.family_name[:1]}".upper()


class BodyMeasurement(models.Model):
    """A dated height and/or weight; dosing uses the latest height and the day's weight."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "patient", "-measured_on"], name="measurement_recent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=False) | models.Q(weight_kg__isnull=False),
                name="measurement_has_height_or_weight",
            ),
            # Plausible adult ranges; a typo (e.g. 800 kg) must not reach a dose calculation.
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True)
                | models.Q(height_cm__gte=100, height_cm__lte=250),
                name="measurement_height_plausible",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_kg__isnull=True)
                | models.Q(weight_kg__gte=25, weight_kg__lte=350),
                name="measurement_weight_plausible",
            ),
        ]
        ordering = ["-measured_on", "-id"]

    def __str__(self) -> str:
        return f"{self.measured_on}: {self.height_cm or '-'} cm, {self.weight_kg or '-'} kg"
