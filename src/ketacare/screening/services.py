"""Writes to screenings: run the eligibility engine on the chart, sign, co-sign."""

from dataclasses import asdict
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import reauth_require
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.eligibility import screen
from ketacare.clinical.protocols import get_protocol
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.versions import ensure_version
from ketacare.patients.facts import facts_to_json
from ketacare.patients.models import Patient
from ketacare.patients.selectors import intake_facts_for, patient_lock_for_write
from ketacare.screening.models import Screening, ScreeningStatus
from ketacare.screening.selectors import screening_out_of_date

# A documented reason is a sentence, not "ok": short enough to write between patients.
MIN_REASON_LENGTH = 10


@transaction.atomic
def screening_run(
    *, actor: Actor, patient: Patient, protocol_id: str, at: datetime | None = None
) -> Screening:
    """Screen the patient's chart for a protocol; supersedes the route's earlier unsigned runs.

    The facts the engine saw are kept as a snapshot, so a later change in the chart to a fact it
    used marks the screening out of date. `at` backdates the run for demo data (default: now).
    """
    actor.require(Permission.SCREENING_RUN)
    if patient.clinic_id != actor.clinic_id:
        raise Http404("Patient not found.")
    protocol = get_protocol(protocol_id)  # an unknown id is InvalidInput (422, field protocol_id)
    _lock_patient(patient)
    facts = intake_facts_for(patient=patient)
    result = screen(facts, protocol=protocol)
    now = at or clock.now()
    superseded = Screening.objects.filter(
        clinic_id=actor.clinic_id,
        patient=patient,
        route=protocol.route,
        signed_by__isnull=True,
        superseded_at__isnull=True,
    ).update(superseded_at=now, version=F("version") + 1)
    screening = Screening.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        route=protocol.route,
        status=result.status,
        result={
            "fired": [asdict(rule) for rule in result.fired],
            "missing_facts": result.missing_facts,
            "unresolved_rules": result.unresolved_rules,
            "notes": result.notes,
            "unrecognised": [asdict(entry) for entry in result.unrecognised],
            "readings": [asdict(entry) for entry in result.readings],
            "protocol_title": protocol.title,
        },
        facts=facts_to_json(facts),
        facts_used=result.facts_used,
        run_by=actor.user,
        run_at=now,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="screening",
        object_id=screening.pk,
        patient_id=patient.pk,
        detail={
            "protocol_id": protocol.id,
            "status": result.status,
            "fired": [rule.rule_id for rule in result.fired],
            "missing_facts": result.missing_facts,
            "unrecognised": [f"{entry.fact}: {entry.entry}" for entry in result.unrecognised],
            "superseded_unsigned": superseded,
        },
    )
    return screening


def _lock_patient(patient: Patient) -> None:
    # Runs and signatures for one patient queue behind each other, so two at once cannot each
    # miss the other's screening when superseding. A chart merged into another is refused.
    patient_lock_for_write(clinic_id=patient.clinic_id, patient_id=patient.pk)


def _locked(actor: Actor, screening: Screening) -> Screening:
    if screening.clinic_id != actor.clinic_id:
        raise Http404("Screening not found.")
    Patient.objects.select_for_update().filter(pk=screening.patient_id).values_list("pk").first()
    fresh = (
        Screening.objects.select_for_update(of=("self",))
        .select_related("patient__clinic", "signed_by")
        .filter(pk=screening.pk, clinic_id=actor.clinic_id)
        .first()
    )
    if fresh is None:
        raise Http404("Screening not found.")
    return fresh


def _check_version(screening: Screening, version: int | None) -> None:
    if version is not None:  # pages that show no version send none
        ensure_version("screening", seen=version, current=screening.version)


def _refuse_if_out_of_date(screening: Screening) -> None:
    if screening.superseded_at is not None:
        raise Conflict(
            f"Screening {screening.pk} has been superseded by a newer screening.",
            field="screening",
            code="screening_superseded",
        )
    changed = screening_out_of_date(screening)
    if changed:
        raise Refused(
            f"The chart changed since screening {screening.pk} ran ({', '.join(changed)}); "
            "run the screening again and sign the new result.",
            field="screening",
            code="screening_out_of_date",
        )


@transaction.atomic
def screening_sign(
    *,
    actor: Actor,
    screening: Screening,
    reason: str = "",
    version: int | None = None,
    at: datetime | None = None,
) -> Screening:
    """A prescriber signs the screening; short of eligible, only with a documented reason.

    Signing makes this the route's screening: older ones for the route are superseded. An
    ineligible screening still needs a second prescriber's co-signature to allow treatment.
    The signer re-authenticates (password or signing PIN) in the same request.
    """
    actor.require(Permission.SCREENING_SIGN)
    reauth_require(actor, what="the screening")
    screening = _locked(actor, screening)
    _check_version(screening, version)
    if screening.signed_by_id is not None:
        raise Conflict(
            f"Screening {screening.pk} is already signed by "
            f"{screening.signed_by.display_name() if screening.signed_by else 'a prescriber'}.",
            field="screening",
            code="screening_already_signed",
        )
    _refuse_if_out_of_date(screening)
    reason = reason.strip()
    if screening.status != ScreeningStatus.ELIGIBLE and len(reason) < MIN_REASON_LENGTH:
        raise Refused(
            f"This screening is {screening.get_status_display().lower()}: going forward needs "
            "your documented reason (a sentence on why treatment is appropriate despite the "
            "rules that fired or the facts that are missing).",
            field="reason",
            code="reason_required",
        )
    now = at or clock.now()
    Screening.objects.filter(pk=screening.pk).update(
        signed_by=actor.user, signed_at=now, sign_reason=reason, version=F("version") + 1
    )
    Screening.objects.filter(
        clinic_id=actor.clinic_id,
        patient_id=screening.patient_id,
        route=screening.route,
        superseded_at__isnull=True,
    ).exclude(pk=screening.pk).update(superseded_at=now, version=F("version") + 1)
    audit_record(
        actor=actor,
        action=AuditAction.SIGN,
        object_type="screening",
        object_id=screening.pk,
        patient_id=screening.patient_id,
        detail={"status": screening.status, "reason": reason},
    )
    screening.refresh_from_db()
    return screening


@transaction.atomic
def screening_cosign(
    *,
    actor: Actor,
    screening: Screening,
    note: str = "",
    version: int | None = None,
    at: datetime | None = None,
) -> Screening:
    """A second prescriber co-signs an ineligible screening (re-authenticated) so it may go on."""
    actor.require(Permission.SCREENING_SIGN)
    reauth_require(actor, what="the co-signature")
    screening = _locked(actor, screening)
    _check_version(screening, version)
    if screening.status != ScreeningStatus.INELIGIBLE:
        raise Refused(
            "Only an ineligible screening needs a co-signature.",
            field="screening",
            code="cosign_not_needed",
        )
    if screening.signed_by_id is None:
        raise Refused(
            "A prescriber must sign this screening, with a reason, before it is co-signed.",
            field="screening",
            code="screening_unsigned",
        )
    if screening.cosigned_by_id is not None:
        raise Conflict(
            f"Screening {screening.pk} is already co-signed.",
            field="screening",
            code="screening_already_cosigned",
        )
    if screening.signed_by_id == actor.user.pk:
        raise Refused(
            "The co-signature must come from a second prescriber, not the one who signed.",
            field="screening",
            code="cosigner_is_signer",
        )
    _refuse_if_out_of_date(screening)
    Screening.objects.filter(pk=screening.pk).update(
        cosigned_by=actor.user,
        cosigned_at=at or clock.now(),
        cosign_note=note.strip(),
        version=F("version") + 1,
    )
    audit_record(
        actor=actor,
        action=AuditAction.SIGN,
        object_type="screening",
        object_id=screening.pk,
        patient_id=screening.patient_id,
        detail={"cosign": True, "note": note.strip()},
    )
    screening.refresh_from_db()
    return screening
