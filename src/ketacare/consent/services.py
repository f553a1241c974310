"""Writes to consent: publish a document version, record a signature, withdraw it."""

import hashlib
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.models import Membership, User
from ketacare.accounts.permissions import Permission
from ketacare.audit.corrections import entered_in_error_mark
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.consent.models import (
    ConsentDocument,
    ConsentDocumentVersion,
    ConsentRoute,
    ConsentSignature,
)
from ketacare.consent.signers import (
    RepresentativeRelationship,
    name_words,
    representative_name_matches,
    signature_names_match,
)
from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import REUSED, replayed
from ketacare.kernel.versions import stale_version
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_lock_for_write


def body_sha256(body: str) -> str:
    """The SHA-256 of a consent text as stored (UTF-8), which signatures copy."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def normalize_body(body: str) -> str:
    """Line endings as \\n and no trailing spaces, so the hash is the same wherever it was typed."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() + "\n"


@transaction.atomic
def consent_document_publish(
    *,
    actor: Actor,
    route: str,
    title: str,
    body: str,
    based_on: int,
    change_note: str = "",
    at: datetime | None = None,
) -> ConsentDocumentVersion:
    """Publish a new version of the clinic's consent text for a route (never edits an old one).

    `based_on` is the version number the editor started from (0 for the first); if someone
    published since, the edit is refused (409) rather than silently replacing their text.
    Patients who signed an earlier version are asked to consent again at their next session.
    """
    actor.require(Permission.CONSENT_DOCUMENT_MANAGE)
    if route not in ConsentRoute.values:
        raise Refused(
            f"Unknown route {route!r}; routes are {', '.join(ConsentRoute.values)}.", field="route"
        )
    title = title.strip()
    body = normalize_body(body)
    if not title:
        raise Refused("Give the document a title.", field="title")
    if len(body.strip()) < 20:
        raise Refused("The consent text is empty or too short.", field="body")
    document, _ = ConsentDocument.objects.select_for_update().get_or_create(
        clinic_id=actor.clinic_id, route=route, defaults={"title": title}
    )
    latest = (
        ConsentDocumentVersion.objects.filter(clinic_id=actor.clinic_id, document=document)
        .order_by("-number")
        .first()
    )
    latest_number = latest.number if latest else 0
    if based_on != latest_number:
        raise stale_version("consent text", seen=based_on, current=latest_number, field="based_on")
    digest = body_sha256(body)
    if latest is not None and latest.body_sha256 == digest and document.title == title:
        raise Refused(
            "The text and title are the same as the current version; nothing to publish.",
            field="body",
        )
    if document.title != title:
        ConsentDocument.objects.filter(pk=document.pk).update(title=title)
    try:
        with transaction.atomic():
            version = ConsentDocumentVersion.objects.create(
                clinic_id=actor.clinic_id,
                document=document,
                number=latest_number + 1,
                title=title,
                body=body,
                body_sha256=digest,
                change_note=change_note.strip(),
                published_at=at or clock.now(),
                published_by=actor.user,
            )
    except IntegrityError as exc:  # a simultaneous publication took the number
        raise Conflict(
            "Another version was published at the same moment; reload and try again.",
            field="based_on",
        ) from exc
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="consent_document_version",
        object_id=version.pk,
        detail={"route": route, "number": version.number, "sha256": digest},
    )
    return version


def _witness(actor: Actor, witnessed_by_id: int) -> User:
    membership = (
        Membership.objects.filter(
            clinic_id=actor.clinic_id,
            user_id=witnessed_by_id,
            is_active=True,
            user__is_active=True,
        )
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Refused("The witness must be a member of staff of this clinic.", field="witnessed_by")
    return membership.user


@transaction.atomic
def consent_signature_record(
    *,
    actor: Actor,
    patient: Patient,
    document_version_id: int,
    signed_name: str,
    signed_at: datetime,
    witnessed_by_id: int,
    idempotency_key: str = "",
    representative_name: str = "",
    representative_relationship: str = "",
    at: datetime | None = None,
) -> ConsentSignature:
    """Record that the patient (or a named representative) signed the route's current text.

    The typed name must be the patient's own name, or the representative's recorded name when
    a representative signs with their relationship (`signature_name_mismatch` otherwise). A retry
    with the same idempotency key returns the first record; a second live signature on the same
    text is refused (`consent_already_signed`). `at` backdates the recording for demo data.
    """
    actor.require(Permission.CONSENT_RECORD)
    if patient.clinic_id != actor.clinic_id:
        raise Http404("Patient not found.")
    patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient.pk)
    idempotency_key = idempotency_key.strip()[:64]
    earlier = replayed(
        ConsentSignature,
        clinic_id=actor.clinic_id,
        key=idempotency_key,
        same=lambda row: row.patient_id == patient.pk,
        what="another patient",
    )
    if earlier is not None:
        return earlier
    version = (
        ConsentDocumentVersion.objects.filter(clinic_id=actor.clinic_id, pk=document_version_id)
        .select_related("document")
        .first()
    )
    if version is None:
        raise Refused("No such consent document version.", field="document_version_id")
    latest_number = (
        ConsentDocumentVersion.objects.filter(clinic_id=actor.clinic_id, document=version.document)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    if version.number != latest_number:
        raise Refused(
            f"Version {version.number} of '{version.document.title}' has been replaced by "
            f"version {latest_number}; the patient must read and sign the current text.",
            field="document_version_id",
            code="consent_version_outdated",
        )
    signed_name = " ".join(signed_name.split())
    if len(signed_name) < 2:
        raise Refused("The patient types their full name to sign.", field="signed_name")
    representative_name = " ".join(representative_name.split())
    _check_signer(
        patient=patient,
        signed_name=signed_name,
        representative_name=representative_name,
        relationship=representative_relationship,
    )
    live = (
        ConsentSignature.objects.select_for_update()
        .filter(
            clinic_id=actor.clinic_id,
            patient=patient,
            document_version=version,
            withdrawn_at__isnull=True,
            entered_in_error_at__isnull=True,
        )
        .first()
    )
    if live is not None:
        raise Conflict(
            f"{patient.display_name} already signed version {version.number} of this text "
            f"({live.signed_at:%Y-%m-%d %H:%M}); it is recorded once. Open the signed copy.",
            field="document_version_id",
            code="consent_already_signed",
        )
    if timezone.is_naive(signed_at):
        raise Refused("Give the signing time with its time zone.", field="signed_at")
    if clock.is_future(signed_at):
        raise Refused("The signing time cannot be in the future.", field="signed_at")
    witness = _witness(actor, witnessed_by_id)
    try:
        with transaction.atomic():
            signature = ConsentSignature.objects.create(
                clinic_id=actor.clinic_id,
                patient=patient,
                document_version=version,
                signed_name=signed_name,
                signed_at=signed_at,
                body_sha256=version.body_sha256,
                witnessed_by=witness,
                recorded_by=actor.user,
                recorded_at=at or clock.now(),
                idempotency_key=idempotency_key,
                representative_name=representative_name,
                representative_relationship=representative_relationship,
            )
    except IntegrityError as exc:  # the same submission, racing itself
        earlier = ConsentSignature.objects.filter(
            clinic_id=actor.clinic_id, idempotency_key=idempotency_key
        ).first()
        if idempotency_key and earlier is not None and earlier.patient_id == patient.pk:
            return earlier
        raise Conflict(
            "This consent was just recorded; reload.", field="idempotency_key", code=REUSED
        ) from exc
    audit_record(
        actor=actor,
        action=AuditAction.SIGN,
        object_type="consent_signature",
        object_id=signature.pk,
        patient_id=patient.pk,
        detail={
            "route": version.document.route,
            "version": version.number,
            "sha256": version.body_sha256,
            "witnessed_by": witness.pk,
            "representative": representative_relationship or None,
        },
    )
    return signature


def _check_signer(
    *, patient: Patient, signed_name: str, representative_name: str, relationship: str
) -> None:
    if relationship or representative_name:
        if relationship not in RepresentativeRelationship.values:
            raise Refused(
                "Say how the representative is related to the patient.",
                field="representative_relationship",
                code="representative_relationship_required",
            )
        if len(name_words(representative_name)) < 2:
            raise Refused(
                "Record the representative's full name.",
                field="representative_name",
                code="representative_name_required",
            )
        if not representative_name_matches(
            typed=signed_name, representative_name=representative_name
        ):
            raise Refused(
                f"The typed signature '{signed_name}' is not the representative's name "
                f"'{representative_name}'; the representative types their own name.",
                field="signed_name",
                code="signature_name_mismatch",
            )
        return
    givens = [patient.given_name, patient.preferred_name]
    if not signature_names_match(
        typed=signed_name, given_names=givens, family_name=patient.family_name
    ):
        raise Refused(
            f"The typed signature '{signed_name}' is not {patient.display_name}'s name. The "
            "patient types their own name; if someone signs for them, record that person as "
            "their representative with the relationship.",
            field="signed_name",
            code="signature_name_mismatch",
        )


@transaction.atomic
def consent_signature_enter_in_error(
    *, actor: Actor, signature: ConsentSignature, reason: str
) -> ConsentSignature:
    """Mark a signature recorded by mistake: it stays visible, stops counting as consent."""
    actor.require(Permission.CONSENT_RECORD)
    if signature.clinic_id != actor.clinic_id:
        raise Http404("Consent signature not found.")
    entered_in_error_mark(
        actor=actor,
        model=ConsentSignature,
        pk=signature.pk,
        object_type="consent_signature",
        patient_id=signature.patient_id,
        reason=reason,
    )
    signature.refresh_from_db()
    return signature


@transaction.atomic
def consent_signature_withdraw(
    *, actor: Actor, signature: ConsentSignature, reason: str
) -> ConsentSignature:
    """The patient withdraws consent: the signed copy stays as it was, marked withdrawn."""
    actor.require(Permission.CONSENT_RECORD)
    if signature.clinic_id != actor.clinic_id:
        raise Http404("Consent signature not found.")
    reason = reason.strip()
    if not reason:
        raise Refused("Record why (in the patient's words if possible).", field="reason")
    updated = ConsentSignature.objects.filter(
        pk=signature.pk, clinic_id=actor.clinic_id, withdrawn_at__isnull=True
    ).update(withdrawn_at=clock.now(), withdrawn_reason=reason, withdrawn_by=actor.user)
    if updated == 0:
        raise Conflict("This consent has already been withdrawn.", field="signature_id")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="consent_signature",
        object_id=signature.pk,
        patient_id=signature.patient_id,
        detail={"withdrawn": True, "reason": reason},
    )
    signature.refresh_from_db()
    return signature
