"""Recovery records: drug screens, safety-review decisions, relapse-prevention plans,
substance-use programmes (use calendar, withdrawal checks) and 42 CFR Part 2 consents and
disclosures. Every record is append-only: a change is a new row that points at the old one."""

from django.conf import settings
from django.db import models

from ketacare.accounts.models import Clinic
from ketacare.audit.models import AppendOnlyError, AppendOnlyModel
from ketacare.patients.models import Patient

# The shared append-only base; `AppendOnly` is the error an attempt to change a row raises.
AppendOnly = AppendOnlyError


class ScreenSubstance(models.TextChoices):
    """What a urine drug screen tested for."""

    KETAMINE = "ketamine", "Ketamine / norketamine"
    ALCOHOL = "alcohol", "Alcohol (EtG)"
    AMPHETAMINES = "amphetamines", "Amphetamines"
    BENZODIAZEPINES = "benzodiazepines", "Benzodiazepines"
    CANNABIS = "cannabis", "Cannabis (THC)"
    COCAINE = "cocaine", "Cocaine"
    FENTANYL = "fentanyl", "Fentanyl"
    OPIATES = "opiates", "Opiates"
    OTHER = "other", "Other (named in the note)"


class ScreenResult(models.TextChoices):
    """A screen's result as the clinic recorded it."""

    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    INVALID = "invalid", "Invalid or adulterated specimen"


class DrugScreen(AppendOnlyModel):
    """A urine drug screen result the clinic recorded, one substance per row."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    collected_on = models.DateField()
    substance = models.CharField(max_length=20, choices=ScreenSubstance.choices)
    result = models.CharField(max_length=10, choices=ScreenResult.choices)
    confirmed = models.BooleanField(help_text="Confirmed by a definitive test, not presumptive.")
    prescribed = models.BooleanField(help_text="The substance is prescribed to the patient.")
    note = models.CharField(max_length=200, blank=True)
    part2 = models.BooleanField(default=False, help_text="A record of a Part 2 programme.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-collected_on", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "-collected_on"], name="uds_patient")]


class SessionRequestKind(models.TextChoices):
    """A request the patient made for treatment beyond the plan."""

    EARLIER = "session_request_earlier", "An earlier session"
    MORE = "session_request_more", "More sessions or a higher dose"


class SessionRequest(AppendOnlyModel):
    """A request for an earlier or an extra session the staff noted."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=SessionRequestKind.choices)
    requested_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-requested_on", "-id"]


class MisuseReview(AppendOnlyModel):
    """The core's assessment of a patient at a moment: the signals and their evidence."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()
    signals = models.JSONField(help_text="Each signal: id, label, rule, evidence, citation.")
    signal_ids = models.JSONField(default=list)
    severe = models.BooleanField(default=False)
    severe_reasons = models.JSONField(default=list)
    not_checked = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the signals and evidence.")
    safety_alert_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-assessed_at", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "-assessed_at"], name="misuse_latest")]


class DecisionChoices(models.TextChoices):
    """What the prescriber decided after a safety review."""

    CONTINUE = "continue", "Continue"
    REDUCE = "reduce", "Reduce the dose"
    PAUSE = "pause", "Pause treatment"
    TAPER = "taper", "Taper"
    STOP = "stop", "Stop treatment"
    REFER = "refer", "Refer (addiction services)"


class MisuseDecision(AppendOnlyModel):
    """A prescriber's decision on a safety review, with the reason; never edited."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(MisuseReview, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=10, choices=DecisionChoices.choices)
    reason = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    idempotency_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="misuse_decision_reason"),
            models.UniqueConstraint(
                fields=["clinic", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="misuse_decision_idempotent",
            ),
        ]


class RecoveryPlanVersion(AppendOnlyModel):
    """One version of a relapse-prevention plan; an edit is the next version."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveIntegerField()
    triggers = models.TextField(blank=True)
    warning_signs = models.TextField(blank=True)
    coping = models.TextField(blank=True)
    people = models.TextField(blank=True, help_text="People and groups to call.")
    crisis_contacts = models.TextField(blank=True)
    habits = models.TextField(blank=True, help_text="Sleep, exercise, food.")
    reasons = models.TextField(blank=True, help_text="Reasons for recovery.")
    written_by_patient = models.BooleanField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    written_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "number"], name="plan_version_once"),
        ]


class RecoveryPlanReview(AppendOnlyModel):
    """A therapist's review of a plan version."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(RecoveryPlanVersion, on_delete=models.PROTECT, related_name="+")
    note = models.TextField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["-reviewed_at", "-id"]


class ProgrammeSubstance(models.TextChoices):
    """What a substance-use programme treats."""

    KETAMINE = "ketamine", "Ketamine use disorder"
    ALCOHOL = "alcohol", "Alcohol use disorder (ketamine-assisted)"
    COCAINE = "cocaine", "Cocaine use disorder (ketamine-assisted)"
    OPIOIDS = "opioids", "Opioid withdrawal or use disorder (ketamine-assisted)"


class SudProgramme(AppendOnlyModel):
    """A patient's substance-use-disorder programme: a Part 2 programme by default."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    substance = models.CharField(max_length=10, choices=ProgrammeSubstance.choices)
    started_on = models.DateField()
    part2 = models.BooleanField(default=True, help_text="Federally assisted: 42 CFR Part 2.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_on", "-id"]


class UseDay(AppendOnlyModel):
    """A Timeline Followback mark of one day: used (and how much) or not; the latest wins."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(SudProgramme, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    used = models.BooleanField()
    amount = models.CharField(max_length=80, blank=True)
    by_patient = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "recorded_at", "id"]
        indexes = [models.Index(fields=["programme", "day"], name="use_day")]


class WithdrawalCheck(AppendOnlyModel):
    """A withdrawal symptom checklist during detoxification, with whether it reached the alert."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    programme = models.ForeignKey(SudProgramme, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField()
    total = models.PositiveSmallIntegerField()
    alert = models.BooleanField()
    safety_alert_id = models.BigIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-recorded_at", "-id"]


class Part2Consent(models.Model):
    """A patient's written consent to disclose Part 2 records: purposes and recipient.

    Written once; revoking sets `revoked_on` (the only change, audited)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    purposes = models.JSONField(help_text="Purposes it covers (treatment, payment, ...).")
    recipient = models.CharField(max_length=200)
    signed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-signed_on", "-id"]


class Part2Disclosure(AppendOnlyModel):
    """One disclosure of Part 2 records: the accounting the patient may ask for."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    consent = models.ForeignKey(
        Part2Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    purpose = models.CharField(max_length=20)
    recipient = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, help_text="page, pdf, api")
    records = models.JSONField(help_text="What was disclosed: kinds and ids.")
    notice = models.TextField()
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField()

    class Meta:
        ordering = ["-disclosed_at", "-id"]
