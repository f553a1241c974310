"""The at-home programme's records: enrolment, sitter, prescriptions with their telemedicine
record, supply movements, home doses (gate, dose, tracker) and follow-up reviews.

Misuse signals are plain, queryable facts (docs in the app's note): supply movements of kind
`lost`, refills refused or released (`RefillDecision`), doses whose tracker never came
(`HomeDose.tracker_submitted_at` null after `tracker_due_at`), trackers that answered
`use_outside_plan`, and prescriptions whose PDMP check found something (`pdmp_result`).
"""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.models import AppendOnlyModel, ChainedQuerySet, ChainedRecord
from ketacare.patients.models import Patient


class ProgrammeStatus(models.TextChoices):
    """Active → paused (a broken rule, a red flag) → active again, or ended."""

    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class VisitModality(models.TextChoices):
    """How a visit took place (values match the core's telehealth modalities)."""

    AUDIO_VIDEO = "audio_video", "Video (audio and video)"
    AUDIO_ONLY = "audio_only", "Telephone (audio only)"
    IN_PERSON = "in_person", "In person"


class HomeProgramme(models.Model):
    """A patient's enrolment in the clinic's at-home programme, after an evaluation visit."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    protocol_id = models.CharField(max_length=40, default="sublingual_home")
    status = models.CharField(
        max_length=10, choices=ProgrammeStatus.choices, default=ProgrammeStatus.ACTIVE
    )
    evaluation_on = models.DateField(help_text="The evaluation visit that led to enrolment.")
    evaluation_modality = models.CharField(max_length=12, choices=VisitModality.choices)
    consent_signature_id = models.BigIntegerField(help_text="The signed programme agreement.")
    screening_id = models.BigIntegerField(
        null=True, help_text="The eligible screening enrolment rested on (the core's decision)."
    )
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    units_per_dose = models.PositiveSmallIntegerField(default=1)
    doses_planned = models.PositiveSmallIntegerField()
    started_on = models.DateField()
    sitter_name = models.CharField(max_length=120)
    sitter_phone = models.CharField(max_length=40, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    enrolled_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=~models.Q(status="ended"),
                name="one_open_home_programme_per_patient",
            ),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="home_programme_idempotent",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "status"], name="home_programme_status")]

    def __str__(self) -> str:
        return f"At-home programme {self.pk} of patient {self.patient_id}"


class PdmpResult(models.TextChoices):
    """What the state PDMP check showed (values match the core's telehealth data)."""

    NO_FINDINGS = "no_findings", "No findings"
    FINDINGS = "findings", "Findings (reviewed by the prescriber)"


class HomePrescription(models.Model):
    """A signed prescription for home doses, with the telemedicine record the rules checked."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(
        HomeProgramme, on_delete=models.PROTECT, related_name="prescriptions"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_on = models.DateField()
    drug = models.CharField(max_length=120)
    strength_mg = models.DecimalField(max_digits=6, decimal_places=1, help_text="mg per unit")
    form = models.CharField(max_length=60, help_text="e.g. sublingual troche")
    quantity = models.PositiveIntegerField(help_text="Units dispensed on the first fill.")
    directions = models.TextField()
    refills = models.PositiveSmallIntegerField(default=0)
    pharmacy = models.CharField(max_length=200)
    # the telemedicine record
    visit_modality = models.CharField(max_length=12, choices=VisitModality.choices)
    patient_state = models.CharField(max_length=2)
    dea_registration = models.CharField(max_length=9)
    dea_registration_state = models.CharField(max_length=2)
    in_person_evaluation_on = models.DateField(null=True, blank=True)
    pdmp_checked_on = models.DateField(null=True, blank=True, help_text="Required by the rules.")
    pdmp_result = models.CharField(max_length=12, choices=PdmpResult.choices)
    pdmp_review = models.TextField(blank=True)
    legal_basis = models.CharField(max_length=40)
    rules_period = models.CharField(max_length=40, help_text="The rule period the date fell in.")
    signed_at = models.DateTimeField()
    content_sha256 = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="home_prescription_idempotent",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="home_rx_quantity"),
        ]
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return f"{self.drug} {self.strength_mg} mg × {self.quantity} ({self.issued_on})"


class SupplyKind(models.TextChoices):
    """A movement of home supply, in units (tablets, troches)."""

    DISPENSED = "dispensed", "Dispensed (first fill)"
    REFILL = "refill", "Refill dispensed"
    TAKEN = "taken", "Taken (a home dose)"
    LOST = "lost", "Reported lost or missing"


class SupplyMovement(models.Model):
    """One append-only movement of a patient's home supply; what is left is their sum."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(HomeProgramme, on_delete=models.PROTECT, related_name="supply")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=SupplyKind.choices)
    units = models.PositiveIntegerField()
    prescription = models.ForeignKey(
        HomePrescription, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dose = models.ForeignKey(
        "HomeDose", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    ledger_entry_id = models.BigIntegerField(
        null=True, blank=True, help_text="The ledger's dispensing entry when the clinic filled it."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(units__gt=0), name="supply_units_positive"),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="supply_movement_idempotent",
            ),
        ]
        indexes = [models.Index(fields=["programme", "kind"], name="supply_programme_kind")]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.units} for programme {self.programme_id}"


class FollowUpReview(models.Model):
    """A clinician's follow-up visit: modality, note, and the count of supply left at home."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(HomeProgramme, on_delete=models.PROTECT, related_name="reviews")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    reviewed_on = models.DateField()
    modality = models.CharField(max_length=12, choices=VisitModality.choices)
    note = models.TextField()
    counted_units = models.PositiveIntegerField(help_text="Units counted at home at the visit.")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"Review {self.reviewed_on} of programme {self.programme_id}"


class RefillDecision(models.Model):
    """Every refill asked for: released, or refused with the core's codes (a misuse signal)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(HomeProgramme, on_delete=models.PROTECT, related_name="refills")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    released = models.BooleanField()
    refused_codes = models.JSONField(default=list, blank=True)
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"Refill {'released' if self.released else 'refused'} for {self.programme_id}"


class DoseStatus(models.TextChoices):
    """open (gate not passed yet) → blocked (refused today) or ready → taken → tracked."""

    OPEN = "open", "Gate open"
    BLOCKED = "blocked", "Blocked at the gate"
    READY = "ready", "Gate passed"
    TAKEN = "taken", "Taken, tracker due"
    TRACKED = "tracked", "Tracker in"


class HomeDose(models.Model):
    """One home dose: the sitter's attestation, the gate's readings, the dose, the tracker."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(HomeProgramme, on_delete=models.PROTECT, related_name="doses")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(help_text="Which dose of the plan (1-based).")
    status = models.CharField(max_length=10, choices=DoseStatus.choices, default=DoseStatus.OPEN)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    units = models.PositiveSmallIntegerField()
    opened_at = models.DateTimeField()
    sitter_name = models.CharField(max_length=120)
    sitter_attested_at = models.DateTimeField(null=True, blank=True)
    systolic = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate = models.PositiveSmallIntegerField(null=True, blank=True)
    fasting = models.BooleanField(null=True, blank=True)
    no_alcohol_or_substances = models.BooleanField(null=True, blank=True)
    safe_place = models.BooleanField(null=True, blank=True)
    gate_checked_at = models.DateTimeField(null=True, blank=True)
    gate_codes = models.JSONField(default=list, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    tracker_due_at = models.DateTimeField(null=True, blank=True)
    tracker_answers = models.JSONField(default=dict, blank=True)
    tracker_submitted_at = models.DateTimeField(null=True, blank=True)
    red_flags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "number"],
                condition=models.Q(status__in=["taken", "tracked"]),
                name="home_dose_number_taken_once",
            ),
            models.UniqueConstraint(
                fields=["programme"],
                condition=models.Q(status__in=["open", "ready"]),
                name="one_home_dose_in_progress",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["taken", "tracked"])
                | models.Q(sitter_attested_at__isnull=False, taken_at__isnull=False),
                name="home_dose_taken_after_sitter",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status"], name="home_dose_status")]
        ordering = ["opened_at", "id"]

    def __str__(self) -> str:
        return f"Home dose {self.number} of programme {self.programme_id} ({self.status})"


class DoseStep(models.Model):
    """The prescriber's change of the home dose within the protocol, with the reason."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(HomeProgramme, on_delete=models.PROTECT, related_name="steps")
    from_mg = models.DecimalField(max_digits=6, decimal_places=1)
    to_mg = models.DecimalField(max_digits=6, decimal_places=1)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_mg} → {self.to_mg} mg"


class TelehealthPolicyQuerySet(ChainedQuerySet):
    """A clinic's telemedicine-prescribing settings: append-only like every chained record."""


class TelehealthPolicy(ChainedRecord):
    """A clinic's choice of legal bases for one configurable prescribing period (say, from
    1 Jan 2027 when a rule changes); the latest row per period is in force. Never changed: a new
    choice is a new row, chained per clinic (`clinic:<id>`), so the history is the record."""

    CHAIN_KIND = "telehealth_policy"
    CHAIN_FIELDS = ("clinic_id", "period_id", "bases", "reason", "set_by_id", "set_at")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    period_id = models.CharField(max_length=60)
    bases = models.JSONField(help_text="The legal bases a prescription in the period may rest on.")
    reason = models.TextField(help_text="Why: the rule, extension or decision behind it.")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    objects = TelehealthPolicyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["chain_key", "seq"], name="telehealth_policy_seq_unique_per_chain"
            )
        ]
        indexes = [models.Index(fields=["clinic", "period_id"], name="telehealth_policy_period")]

    def __str__(self) -> str:
        return f"Telehealth policy {self.seq} of clinic {self.clinic_id} for {self.period_id}"


class SitterCheckIn(AppendOnlyModel):
    """The sitter's check-in during a home session, from their own link: all well, or worried
    (which opens a safety alert). Never changed: a later check-in is a new row."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    dose = models.ForeignKey(HomeDose, on_delete=models.PROTECT, related_name="checkins")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    well = models.BooleanField(help_text="True: all is well; False: the sitter is worried.")
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["dose", "at"], name="sitter_checkin_dose")]
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Sitter check-in {self.pk} of home dose {self.dose_id}"


class ProgrammeStatusChange(AppendOnlyModel):
    """A programme paused, resumed or ended, by whom and why. Never changed: the programme's
    status is the latest of these (or active from enrolment)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    programme = models.ForeignKey(
        HomeProgramme, on_delete=models.PROTECT, related_name="status_changes"
    )
    from_status = models.CharField(max_length=10, choices=ProgrammeStatus.choices)
    to_status = models.CharField(max_length=10, choices=ProgrammeStatus.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"Programme {self.programme_id}: {self.from_status} → {self.to_status}"
