"""42 CFR Part 2: consents on file, their revocation, and disclosures with the accounting."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.clinical import recovery as rules
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.recovery.models import Part2Consent, Part2Disclosure
from ketacare.recovery.selectors import part2_records_of
from ketacare.recovery.services.common import audit, not_future, patient_of, text, today_of

CHANNELS = ("page", "pdf", "api")


@transaction.atomic
def part2_consent_record(
    *,
    actor: Actor,
    patient_id: int,
    purposes: Sequence[str],
    recipient: str,
    signed_on: date,
    expires_on: date | None,
) -> Part2Consent:
    """Record the patient's written consent to disclose Part 2 records for named purposes."""
    actor.require(Permission.PART2_CONSENT)
    patient = patient_of(actor, patient_id)
    chosen = sorted(set(purposes))
    if not chosen:
        raise Refused("Choose at least one purpose.", field="purposes", code="required")
    if any(p not in rules.PURPOSES or p == rules.PATIENT_REQUEST for p in chosen):
        raise Refused("Choose purposes from the list.", field="purposes", code="invalid")
    if set(chosen) - rules.TPO and set(chosen) & rules.TPO:
        raise Refused(
            "A consent for treatment, payment or operations is separate from other purposes.",
            field="purposes",
            code="mixed_purposes",
        )
    signed = not_future(signed_on, "signed_on", actor)
    if expires_on is not None and expires_on < signed:
        raise Refused("It expires before it was signed.", field="expires_on", code="invalid")
    needs_recipient = bool(set(chosen) - rules.TPO)
    consent = Part2Consent.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        purposes=chosen,
        recipient=text(recipient, "recipient", required=needs_recipient, limit=200),
        signed_on=signed,
        expires_on=expires_on,
        recorded_by=actor.user,
        recorded_at=clock.now(),
    )
    audit(actor, AuditAction.CREATE, "part2_consent", consent.pk, patient, {"purposes": chosen})
    return consent


@transaction.atomic
def part2_consent_revoke(*, actor: Actor, patient_id: int, consent_id: int) -> Part2Consent:
    """Record that the patient revoked a consent today (the only change a consent takes)."""
    actor.require(Permission.PART2_CONSENT)
    patient = patient_of(actor, patient_id)
    consent = (
        Part2Consent.objects.select_for_update()
        .filter(pk=consent_id, clinic_id=actor.clinic_id, patient=patient)
        .first()
    )
    if consent is None:
        raise Refused("No such consent.", field="consent_id", code="not_found")
    if consent.revoked_on is not None:
        raise Refused("This consent is already revoked.", field="consent_id", code="revoked")
    consent.revoked_on = today_of(actor)
    consent.save(update_fields=["revoked_on"])
    audit(actor, AuditAction.UPDATE, "part2_consent", consent.pk, patient, {"revoked": True})
    return consent


@transaction.atomic
def part2_disclose(
    *, actor: Actor, patient_id: int, purpose: str, recipient: str, channel: str = "page"
) -> Part2Disclosure:
    """Disclose the patient's Part 2 records under a consent on file, with the notice against
    redisclosure; every disclosure is entered in the accounting. No consent, no disclosure."""
    actor.require(Permission.PART2_DISCLOSE)
    patient = patient_of(actor, patient_id)
    if purpose not in rules.PURPOSES:
        raise Refused("Choose a purpose.", field="purpose", code="invalid")
    if channel not in CHANNELS:
        raise Refused("Unknown channel.", field="channel", code="invalid")
    to = text(recipient, "recipient", limit=200)
    consents = list(Part2Consent.objects.filter(clinic_id=actor.clinic_id, patient=patient))
    decision = rules.disclosure_decide(
        purpose=purpose,
        recipient=to,
        today=today_of(actor),
        consents=[
            rules.ConsentOnFile(
                frozenset(c.purposes), c.recipient, c.signed_on, c.expires_on, c.revoked_on
            )
            for c in consents
        ],
    )
    if not decision.allowed:
        raise Refused(decision.reason, field="purpose", code="no_consent")
    consent = consents[decision.consent_index] if decision.consent_index is not None else None
    records = part2_records_of(patient=patient)
    row = Part2Disclosure.objects.create(
        clinic_id=actor.clinic_id,
        patient=patient,
        consent=consent,
        purpose=purpose,
        recipient=to,
        channel=channel,
        records={kind: [r.pk for r in rows] for kind, rows in records.items()},
        notice=rules.REDISCLOSURE_NOTICE_FULL,
        disclosed_by=actor.user,
        disclosed_at=clock.now(),
    )
    audit(
        actor,
        AuditAction.EXPORT,
        "part2_disclosure",
        row.pk,
        patient,
        {"purpose": purpose, "consent_id": consent.pk if consent else None},
    )
    return row
