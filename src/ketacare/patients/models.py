"""Patients: every row carries its clinic's id in its own table."""

from typing import Any

from django.db import models
from django.db.models.functions import Lower

from ketacare.accounts.models import Clinic, tel_href
from ketacare.audit.models import AppendOnlyError


class PatientSexChoices(models.TextChoices):
    """Sex assigned at birth: the ideal-body-weight formula needs it."""

    FEMALE = "female", "Female"
    MALE = "male", "Male"
    UNKNOWN = "unknown", "Unknown"


# Plausible adult ranges; a typo (e.g. 800 kg) must not reach a dose calculation.
HEIGHT_CM_RANGE = (100, 250)
WEIGHT_KG_RANGE = (25, 350)


class IntakeStatus(models.TextChoices):
    """How far the intake has got: nothing recorded, some sections saved, or signed off."""

    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETE = "complete", "Complete"


class Patient(models.Model):
    """A patient of one clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField(
        "MRN", max_length=32, help_text="Medical record number, unique in the clinic."
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    # Lower-cased copies the database keeps, indexed, so a name search reads a range of an
    # index instead of every patient (`selectors.patient_list`).
    given_name_key = models.GeneratedField(
        expression=Lower("given_name"),
        output_field=models.CharField(max_length=100),
        db_persist=True,
        db_index=True,
    )
    family_name_key = models.GeneratedField(
        expression=Lower("family_name"),
        output_field=models.CharField(max_length=100),
        db_persist=True,
        db_index=True,
    )
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
    # Not part of `version`: saving a chart section must not make an open demographics form stale.
    intake_status = models.CharField(
        max_length=20, choices=IntakeStatus.choices, default=IntakeStatus.NOT_STARTED
    )
    intake_completed_at = models.DateTimeField(null=True, blank=True)
    intake_completed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(
        max_length=64,
        blank=True,
        help_text="The registration form's key: a resubmit registers once.",
    )
    # A duplicate chart merged into another keeps its demographics and history, read-only.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_charts"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    merged_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    merge_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_in_clinic"),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="patient_idempotency_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(merged_into__isnull=True) | ~models.Q(merge_reason=""),
                name="patient_merge_has_reason",
            ),
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
    def phone_href(self) -> str:
        """The patient's phone as a tel: address, for a tap on a phone or tablet."""
        return tel_href(self.phone)

    @property
    def initials(self) -> str:
        return f"{self.given_name[:1]}{self.family_name[:1]}".upper()


class BodyMeasurement(models.Model):
    """A dated height and/or weight; dosing uses the latest height and the day's weight.

    Never edited: a wrong entry is voided with a reason (and stops counting) and re-entered.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "patient", "-measured_on"], name="measurement_recent")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=False) | models.Q(weight_kg__isnull=False),
                name="measurement_has_height_or_weight",
            ),
            models.CheckConstraint(
                condition=models.Q(height_cm__isnull=True)
                | models.Q(height_cm__gte=HEIGHT_CM_RANGE[0], height_cm__lte=HEIGHT_CM_RANGE[1]),
                name="measurement_height_plausible",
            ),
            models.CheckConstraint(
                condition=models.Q(weight_kg__isnull=True)
                | models.Q(weight_kg__gte=WEIGHT_KG_RANGE[0], weight_kg__lte=WEIGHT_KG_RANGE[1]),
                name="measurement_weight_plausible",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True) | ~models.Q(void_reason=""),
                name="measurement_void_has_reason",
            ),
        ]
        ordering = ["-measured_on", "-id"]

    def __str__(self) -> str:
        return f"{self.measured_on}: {self.height_cm or '-'} cm, {self.weight_kg or '-'} kg"


class ChartSectionKey(models.TextChoices):
    """The chart's sections (their schemas are in `ketacare.patients.sections`)."""

    DEMOGRAPHICS = "demographics", "Demographics"
    CONTACT = "contact", "Contact, emergency contact and escort"
    DIAGNOSES = "diagnoses", "Diagnoses"
    PSYCHIATRIC_HISTORY = "psychiatric_history", "Psychiatric history"
    MEDICAL_HISTORY = "medical_history", "Medical history"
    ALLERGIES = "allergies", "Allergies"
    MEDICINES = "medicines", "Current medicines"
    SUBSTANCE_USE = "substance_use", "Substance use"
    PREGNANCY = "pregnancy", "Pregnancy and breastfeeding"
    ANTIDEPRESSANT_TRIALS = "antidepressant_trials", "Prior antidepressant trials"
    BASELINE_VITALS = "baseline_vitals", "Baseline vital signs"


class ChartSection(models.Model):
    """The current content of one section of a patient's chart, validated by its schema.

    Demographics live on `Patient`; every other section is one row per patient. Each change
    bumps `version` (a stale version is refused) and appends a `ChartSectionRevision`.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="chart_sections")
    section = models.CharField(max_length=40, choices=ChartSectionKey.choices)
    data = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "section"], name="chart_section_unique_per_patient"
            ),
            models.CheckConstraint(
                condition=~models.Q(section="demographics"), name="chart_section_not_demographics"
            ),
        ]
        indexes = [models.Index(fields=["clinic", "patient"], name="chart_section_patient")]

    def __str__(self) -> str:
        return f"{self.get_section_display()} of patient {self.patient_id} v{self.version}"


class ChartRevisionQuerySet(models.QuerySet["ChartSectionRevision"]):
    """Refuses bulk changes: the history only grows."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Chart history is append-only and cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Chart history is append-only and cannot be deleted.")


class ChartSectionRevision(models.Model):
    """One saved state of a chart section: the whole snapshot, what changed, who and when."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(max_length=40, choices=ChartSectionKey.choices)
    version = models.PositiveIntegerField()
    data = models.JSONField()
    changed_fields = models.JSONField(default=list)
    changed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    objects = ChartRevisionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "section", "version"], name="chart_revision_unique_version"
            )
        ]
        indexes = [
            models.Index(
                fields=["clinic", "patient", "section", "-version"], name="chart_revision_recent"
            )
        ]
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.get_section_display()} of patient {self.patient_id} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An integrity rule, not business logic: a revision once written is never rewritten.
        if self.pk is not None:
            raise AppendOnlyError("Chart history is append-only and cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Chart history is append-only and cannot be deleted.")


class IntakeSubmissionStatus(models.TextChoices):
    """Where a patient's portal form stands: waiting for staff, in the chart, or declined."""

    SUBMITTED = "submitted", "Waiting for review"
    ACCEPTED = "accepted", "Accepted into the chart"
    DECLINED = "declined", "Declined"


class IntakeSubmission(models.Model):
    """Intake forms a patient filled in on the portal before the first visit.

    Nothing here is in the chart: `data` holds what the patient wrote, in the chart sections'
    shapes (medical history, medicines, allergies, contact) plus phone and e-mail, until staff
    review it and accept the sections they checked (`accepted_sections`), each written to the
    chart as a normal, audited chart change.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="intake_submissions"
    )
    data = models.JSONField()
    idempotency_key = models.CharField(max_length=64)
    submitted_at = models.DateTimeField()
    client_address = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(
        max_length=20,
        choices=IntakeSubmissionStatus.choices,
        default=IntakeSubmissionStatus.SUBMITTED,
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    accepted_sections = models.JSONField(default=list, blank=True)
    review_note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"], name="intake_submission_unique_key"
            ),
            models.CheckConstraint(
                condition=models.Q(status="submitted")
                | models.Q(reviewed_by__isnull=False, reviewed_at__isnull=False),
                name="intake_submission_review_names_who",
            ),
        ]
        indexes = [
            models.Index(fields=["clinic", "patient", "status"], name="intake_submission_open")
        ]

    def __str__(self) -> str:
        return f"intake form of patient {self.patient_id} ({self.status})"
