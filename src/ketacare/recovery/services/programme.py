"""Substance-use programmes: start, the Timeline Followback calendar, withdrawal checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical import InvalidInput
from ketacare.clinical import misuse as core
from ketacare.clinical.instruments import score
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.clinic_time import clinic_today
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.recovery.alerts import event_alert_raise
from ketacare.recovery.models import ProgrammeSubstance, SudProgramme, UseDay, WithdrawalCheck
from ketacare.recovery.services.common import audit, not_future, patient_of, text, today_of
from ketacare.recovery.services.plan import PORTAL_USERNAME

WITHDRAWAL = "ketamine_withdrawal_checklist"


def _programme(actor: Actor, patient_id: int) -> SudProgramme:
    programme: SudProgramme | None = (
        SudProgramme.objects.filter(clinic_id=actor.clinic_id, patient_id=patient_id)
        .order_by("-started_on", "-id")
        .first()
    )
    if programme is None:
        raise Refused("The patient is not in a programme.", field="patient_id", code="no_programme")
    return programme


@transaction.atomic
def programme_start(
    *, actor: Actor, patient_id: int, substance: str, started_on: date
) -> SudProgramme:
    """Start a substance-use-disorder programme (its records are Part 2 records)."""
    actor.require(Permission.PART2_VIEW)
    actor.require(Permission.RECOVERY_RECORD)
    patient = patient_of(actor, patient_id)
    if substance not in ProgrammeSubstance.values:
        raise Refused("Choose what the programme treats.", field="substance", code="invalid")
    if SudProgramme.objects.filter(clinic_id=actor.clinic_id, patient=patient).exists():
        raise Refused(
            "The patient already has a programme.", field="substance", code="programme_exists"
        )
    programme = SudProgramme.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        substance=substance,
        started_on=not_future(started_on, "started_on", actor),
        started_by=actor.user,
        recorded_at=clock.now(),
    )
    audit(
        actor,
        AuditAction.CREATE,
        "sud_programme",
        programme.pk,
        patient,
        {"substance": substance, "part2": True},
    )
    return programme


def _mark(
    *,
    programme: SudProgramme,
    day: date,
    used: bool,
    amount: str,
    today: date,
    actor: Actor | None,
    client_address: str | None = None,
) -> UseDay:
    """One day's mark, from staff or the patient: the same checks, record and audit."""
    if day < programme.started_on:
        raise Refused("Before the programme started.", field="day", code="before_programme")
    if day > today:
        raise Refused("This date is in the future.", field="day", code="in_the_future")
    quantity = text(amount, "amount", required=used, limit=80)
    if not used and quantity:
        raise Refused("An abstinent day has no amount.", field="amount", code="invalid")
    row = UseDay.objects.create(
        clinic_id=programme.clinic_id,
        patient_id=programme.patient_id,
        programme=programme,
        day=day,
        used=used,
        amount=quantity,
        by_patient=actor is None,
        recorded_by=actor.user if actor else None,
        recorded_at=clock.now(),
    )
    portal = {} if actor else {"username": PORTAL_USERNAME, "client_address": client_address}
    audit(
        actor,
        AuditAction.CREATE,
        "use_day",
        row.pk,
        programme.patient,
        {"day": day.isoformat(), "used": used, "part2": True, "by_patient": actor is None},
        **portal,
    )
    return row


@transaction.atomic
def use_day_mark(
    *, actor: Actor, patient_id: int, day: date, used: bool, amount: str = ""
) -> UseDay:
    """Mark one calendar day used (with the amount) or not; a later mark of a day replaces it."""
    actor.require(Permission.PART2_VIEW)
    actor.require(Permission.RECOVERY_RECORD)
    programme = _programme(actor, patient_id)
    return _mark(
        programme=programme, day=day, used=used, amount=amount, today=today_of(actor), actor=actor
    )


def programme_of_link(link: PortalLink) -> SudProgramme:
    """The programme of the patient a portal link belongs to (never another patient's)."""
    if link.purpose != PortalLinkPurpose.JOURNAL:
        raise Refused("This link does not open the calendar.", field="link", code="wrong_link")
    programme: SudProgramme | None = (
        SudProgramme.objects.select_related("patient")
        .filter(clinic_id=link.clinic_id, patient_id=link.patient_id)
        .order_by("-started_on", "-id")
        .first()
    )
    if programme is None:
        raise Refused("You are not in a programme.", field="link", code="no_programme")
    return programme


@transaction.atomic
def use_day_mark_by_patient(
    *,
    link: PortalLink,
    day: date,
    used: bool,
    amount: str = "",
    client_address: str | None = None,
) -> UseDay:
    """The patient marks one of their own days in the portal (their journal link opens the
    calendar); the same checks as staff, audited as the portal with the patient's address."""
    programme = programme_of_link(link)
    today = clinic_today(link.clinic)
    return _mark(
        programme=programme,
        day=day,
        used=used,
        amount=amount,
        today=today,
        actor=None,
        client_address=client_address,
    )


@transaction.atomic
def withdrawal_check_record(
    *, actor: Actor, patient_id: int, answers: Sequence[bool]
) -> WithdrawalCheck:
    """Record a withdrawal checklist; at the alert threshold (policy default) open an alert."""
    actor.require(Permission.PART2_VIEW)
    actor.require(Permission.RECOVERY_RECORD)
    programme = _programme(actor, patient_id)
    try:
        scored = score(WITHDRAWAL, list(answers))
    except InvalidInput as error:
        raise Refused(str(error), field="answers", code="invalid") from error
    alert = core.withdrawal_alert(scored.total)
    now = clock.now()
    safety_alert_id = None
    if alert:
        rules = core.load_misuse_rules()
        raised = event_alert_raise(
            clinic_id=actor.clinic_id,
            patient_id=programme.patient_id,
            code=core.ALERT_WITHDRAWAL,
            meaning=(
                f"{scored.total} withdrawal symptoms on the checklist (alert at "
                f"{rules.withdrawal_alert_at_least}; {rules.withdrawal_citation.render()})."
            ),
            source_key=f"withdrawal:{programme.pk}:{now.isoformat()}",
            source_label="Withdrawal checklist (substance-use programme, Part 2)",
            evidence={"total": scored.total, "part2": True},
            raised_at=now,
            username=actor.user.username,
        )
        safety_alert_id = raised
    row = WithdrawalCheck.objects.create(
        clinic_id=actor.clinic_id,
        patient_id=programme.patient_id,
        programme=programme,
        answers=list(scored.item_scores),
        total=scored.total,
        alert=alert,
        safety_alert_id=safety_alert_id,
        recorded_by=actor.user,
        recorded_at=now,
    )
    audit(
        actor,
        AuditAction.CREATE,
        "withdrawal_check",
        row.pk,
        programme.patient,
        {"total": scored.total, "alert": alert, "part2": True},
    )
    return row
