"""The consent API: documents and their versions, signatures, withdrawal."""

from typing import Any

from django.http import HttpRequest
from ninja import Header, Router, Status

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.consent import selectors, services
from ketacare.consent.models import ConsentDocumentVersion, ConsentSignature
from ketacare.consent.schemas import (
    ConsentDocumentOut,
    ConsentPublishIn,
    ConsentSignatureIn,
    ConsentSignatureOut,
    ConsentSignedCopyOut,
    ConsentVersionOut,
    ConsentWithdrawIn,
    PatientConsentsOut,
)
from ketacare.patients.selectors import patient_get_for_actor

router = Router(tags=["consent"])


@operation(
    router.get, "/consent/documents", Permission.CONSENT_VIEW, response=list[ConsentDocumentOut]
)
def list_documents(request: HttpRequest) -> list[dict[str, Any]]:
    """The clinic's consent documents, one per route, with their versions (no texts)."""
    actor = api_actor(request)
    rows = selectors.consent_documents_of_clinic(actor=actor)
    documents = []
    for row in rows:
        if row.document is None:
            continue
        _, versions = selectors.consent_document_get_for_actor(
            actor=actor, document_id=row.document.pk
        )
        documents.append(
            {
                "id": row.document.pk,
                "route": row.route,
                "title": row.document.title,
                "versions": versions,
            }
        )
    return documents


@operation(
    router.get,
    "/consent/documents/{document_id}",
    Permission.CONSENT_VIEW,
    response=ConsentDocumentOut,
)
def get_document(request: HttpRequest, document_id: int) -> dict[str, Any]:
    """One document and its versions, newest first."""
    document, versions = selectors.consent_document_get_for_actor(
        actor=api_actor(request), document_id=document_id
    )
    return {
        "id": document.pk,
        "route": document.route,
        "title": document.title,
        "versions": versions,
    }


@operation(
    router.post,
    "/consent/documents",
    Permission.CONSENT_DOCUMENT_MANAGE,
    response={201: ConsentVersionOut},
)
def publish_version(request: HttpRequest, payload: ConsentPublishIn) -> Status[Any]:
    """Publish a new version of a route's consent text (the first creates the document).

    Earlier versions never change; patients who signed one are asked to consent again.
    """
    version = services.consent_document_publish(
        actor=api_actor(request),
        route=payload.route.value,
        title=payload.title,
        body=payload.body,
        change_note=payload.change_note,
        based_on=payload.based_on,
    )
    return Status(201, version)


@operation(
    router.get,
    "/consent/versions/{document_version_id}",
    Permission.CONSENT_VIEW,
    response=ConsentVersionOut,
)
def get_version(request: HttpRequest, document_version_id: int) -> ConsentDocumentVersion:
    """One version's exact text and SHA-256."""
    return selectors.consent_version_get_for_actor(
        actor=api_actor(request), version_id=document_version_id
    )


@operation(
    router.get,
    "/patients/{patient_id}/consents",
    Permission.CONSENT_VIEW,
    response=PatientConsentsOut,
)
def patient_consents(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """The patient's consent per route (signed, needs re-consent, not signed) and signatures."""
    consents = selectors.consents_of_patient(actor=api_actor(request), patient_id=patient_id)
    return {
        "patient_id": consents.patient.pk,
        "routes": [
            {
                "route": rc.route,
                "state": rc.state,
                "has_consent": rc.status.has_consent,
                "needs_reconsent": rc.status.needs_reconsent,
                "signature_id": rc.status.signature.pk if rc.status.signature else None,
                "latest_version_id": rc.status.latest_version.pk
                if rc.status.latest_version
                else None,
                "latest_version_number": rc.status.latest_version.number
                if rc.status.latest_version
                else None,
            }
            for rc in consents.routes
        ],
        "signatures": consents.signatures,
    }


@operation(
    router.post,
    "/patients/{patient_id}/consents",
    Permission.CONSENT_RECORD,
    response={201: ConsentSignatureOut},
)
def record_signature(
    request: HttpRequest,
    patient_id: int,
    payload: ConsentSignatureIn,
    idempotency_key: str = Header("", alias="Idempotency-Key", max_length=64),  # type: ignore[type-arg]
) -> Status[ConsentSignature]:
    """Record the patient's signature on the route's current version, with a staff witness.

    Send an `Idempotency-Key` header: a retry with the same key returns the first record.
    """
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CONSENT_RECORD, audit=False
    )
    signature = services.consent_signature_record(
        actor=actor,
        patient=patient,
        document_version_id=payload.document_version_id,
        signed_name=payload.signed_name,
        signed_at=payload.signed_at,
        witnessed_by_id=payload.witnessed_by_id,
        idempotency_key=idempotency_key,
        representative_name=payload.representative_name,
        representative_relationship=payload.representative_relationship,
    )
    signature = selectors.consent_signature_get_for_actor(
        actor=actor, signature_id=signature.pk, audit=False
    )
    return Status(201, signature)


@operation(
    router.get,
    "/consent/signatures/{signature_id}",
    Permission.CONSENT_VIEW,
    response=ConsentSignedCopyOut,
)
def get_signature(request: HttpRequest, signature_id: int) -> ConsentSignature:
    """The signed copy: the exact text, its hash, the typed name, time and witness."""
    return selectors.consent_signature_get_for_actor(
        actor=api_actor(request), signature_id=signature_id
    )


@operation(
    router.post,
    "/consent/signatures/{signature_id}/withdraw",
    Permission.CONSENT_RECORD,
    response=ConsentSignatureOut,
)
def withdraw_signature(
    request: HttpRequest, signature_id: int, payload: ConsentWithdrawIn
) -> ConsentSignature:
    """The patient withdraws consent; the signed copy stays, marked withdrawn."""
    actor = api_actor(request)
    signature = selectors.consent_signature_get_for_actor(
        actor=actor, signature_id=signature_id, audit=False
    )
    services.consent_signature_withdraw(actor=actor, signature=signature, reason=payload.reason)
    return selectors.consent_signature_get_for_actor(
        actor=actor, signature_id=signature_id, audit=False
    )
