"""Reads of consent documents and signatures, scoped to the clinic."""

from dataclasses import dataclass

from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.models import User
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.consent.models import (
    ConsentDocument,
    ConsentDocumentVersion,
    ConsentRoute,
    ConsentSignature,
)
from ketacare.patients.models import Patient
from ketacare.patients.selectors import patient_get_for_actor


@dataclass(frozen=True)
class ConsentStatus:
    """Whether a patient has consented to a route, and whether a newer text awaits re-consent."""

    signature: ConsentSignature | None
    latest_version: ConsentDocumentVersion | None

    @property
    def has_consent(self) -> bool:
        return self.signature is not None

    @property
    def needs_reconsent(self) -> bool:
        """A newer version of the document was published after the one the patient signed."""
        return (
            self.signature is not None
            and self.latest_version is not None
            and self.signature.document_version_id != self.latest_version.pk
        )


def consent_status(*, patient: Patient, route: str) -> ConsentStatus:
    """The patient's latest unwithdrawn signature for the route, and the route's latest text."""
    latest = (
        ConsentDocumentVersion.objects.filter(clinic_id=patient.clinic_id, document__route=route)
        .order_by("-number")
        .first()
    )
    signature = (
        ConsentSignature.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            withdrawn_at__isnull=True,
            entered_in_error_at__isnull=True,
            document_version__document__route=route,
        )
        .select_related("document_version")
        .order_by("-signed_at", "-id")
        .first()
    )
    return ConsentStatus(signature=signature, latest_version=latest)


# --- documents ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteDocument:
    """A route, its clinic document (if written yet) and the document's latest version."""

    route: str
    label: str
    document: ConsentDocument | None
    latest: ConsentDocumentVersion | None


def latest_versions(*, clinic_id: int) -> dict[str, ConsentDocumentVersion]:
    """The latest published version of each route's document in the clinic (one query).

    The body is deferred: read `consent_version_get_for_actor` for the text.
    """
    latest: dict[str, ConsentDocumentVersion] = {}
    versions = (
        ConsentDocumentVersion.objects.filter(clinic_id=clinic_id)
        .select_related("document", "published_by")
        .order_by("document_id", "-number")
    )
    # Bodies are long and not needed to tell which version is latest.
    for version in versions.defer("body"):
        latest.setdefault(version.document.route, version)
    return latest


def consent_documents_of_clinic(*, actor: Actor) -> list[RouteDocument]:
    """Every route with the clinic's document for it and the latest version (two queries)."""
    actor.require(Permission.CONSENT_VIEW)
    documents = {d.route: d for d in ConsentDocument.objects.filter(clinic_id=actor.clinic_id)}
    latest = latest_versions(clinic_id=actor.clinic_id)
    return [
        RouteDocument(route, label, documents.get(route), latest.get(route))
        for route, label in ConsentRoute.choices
    ]


def consent_document_get_for_actor(
    *, actor: Actor, document_id: int
) -> tuple[ConsentDocument, list[ConsentDocumentVersion]]:
    """A document of the actor's clinic with its versions, newest first (404 for others)."""
    actor.require(Permission.CONSENT_VIEW)
    document = ConsentDocument.objects.filter(clinic_id=actor.clinic_id, pk=document_id).first()
    if document is None:
        raise Http404("Consent document not found.")
    versions = list(
        ConsentDocumentVersion.objects.filter(clinic_id=actor.clinic_id, document=document)
        .select_related("published_by")
        .order_by("-number")
    )
    return document, versions


def consent_version_get_for_actor(*, actor: Actor, version_id: int) -> ConsentDocumentVersion:
    """One published version of the actor's clinic (404 for others)."""
    actor.require(Permission.CONSENT_VIEW)
    version = (
        ConsentDocumentVersion.objects.filter(clinic_id=actor.clinic_id, pk=version_id)
        .select_related("document", "published_by")
        .first()
    )
    if version is None:
        raise Http404("Consent document version not found.")
    return version


# --- signatures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteConsent:
    """A patient's standing for one route: the text to sign and the signature that counts."""

    route: str
    label: str
    status: ConsentStatus

    @property
    def state(self) -> str:
        """none_published, not_signed, needs_reconsent or signed."""
        if self.status.latest_version is None and self.status.signature is None:
            return "none_published"
        if self.status.signature is None:
            return "not_signed"
        if self.status.needs_reconsent:
            return "needs_reconsent"
        return "signed"


@dataclass(frozen=True)
class PatientConsents:
    """A patient's consent standing per route and every signature, newest first."""

    patient: Patient
    routes: list[RouteConsent]
    signatures: list[ConsentSignature]


def _route_consents(
    signatures: list[ConsentSignature], latest: dict[str, ConsentDocumentVersion]
) -> list[RouteConsent]:
    routes = []
    for route, label in ConsentRoute.choices:
        signature = next(
            (
                s
                for s in signatures
                if s.withdrawn_at is None
                and s.entered_in_error_at is None
                # matches a signature to the route being listed: no route behaviour here
                and s.document_version.document.route == route
            ),
            None,
        )
        routes.append(RouteConsent(route, label, ConsentStatus(signature, latest.get(route))))
    return routes


def _signatures_of(patient: Patient) -> list[ConsentSignature]:
    return list(
        ConsentSignature.objects.filter(clinic_id=patient.clinic_id, patient=patient)
        .select_related(
            "document_version__document",
            "witnessed_by",
            "recorded_by",
            "withdrawn_by",
            "entered_in_error_by",
        )
        .order_by("-signed_at", "-id")
    )


def consent_routes_of(*, patient: Patient) -> list[RouteConsent]:
    """The patient's standing per route, for the patient page (not audited: the page is)."""
    return _route_consents(_signatures_of(patient), latest_versions(clinic_id=patient.clinic_id))


def consents_of_patient(*, actor: Actor, patient_id: int) -> PatientConsents:
    """A patient's consents for every route; the read is audited (a fixed number of queries)."""
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CONSENT_VIEW, audit=False
    )
    signatures = _signatures_of(patient)
    routes = _route_consents(signatures, latest_versions(clinic_id=actor.clinic_id))
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="consent_signature",
        patient_id=patient.pk,
        detail={"signature_ids": [s.pk for s in signatures]},
    )
    return PatientConsents(patient=patient, routes=routes, signatures=signatures)


def consent_signature_get_for_actor(
    *, actor: Actor, signature_id: int, audit: bool = True
) -> ConsentSignature:
    """One signature of the actor's clinic, with its text (404 for others); the read is audited."""
    actor.require(Permission.CONSENT_VIEW)
    signature = (
        ConsentSignature.objects.filter(clinic_id=actor.clinic_id, pk=signature_id)
        .select_related(
            "document_version__document",
            "document_version__published_by",
            "witnessed_by",
            "recorded_by",
            "withdrawn_by",
            "patient",
        )
        .first()
    )
    if signature is None:
        raise Http404("Consent signature not found.")
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="consent_signature",
            object_id=signature.pk,
            patient_id=signature.patient_id,
        )
    return signature


def witnesses_of_clinic(*, actor: Actor) -> list[User]:
    """Staff of the clinic who may witness a signature (active members), by name."""
    return list(
        User.objects.filter(
            memberships__clinic_id=actor.clinic_id, memberships__is_active=True, is_active=True
        )
        .order_by("last_name", "first_name", "username")
        .distinct()
    )
