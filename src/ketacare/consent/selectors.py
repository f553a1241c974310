"""Reads of consent documents and signatures, scoped to the clinic."""

from dataclasses import dataclass

from ketacare.consent.models import ConsentDocumentVersion, ConsentSignature
from ketacare.patients.models import Patient


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
            document_version__document__route=route,
        )
        .select_related("document_version")
        .order_by("-signed_at", "-id")
        .first()
    )
    return ConsentStatus(signature=signature, latest_version=latest)
