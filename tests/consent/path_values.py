"""Path values for the route walker: a consent document, a version and a signature."""

from ketacare.consent.models import ConsentDocumentVersion, ConsentSignature
from tests.consent.factories import (
    ConsentDocumentFactory,
    ConsentSignatureFactory,
    ConsentVersionFactory,
)


def _version(clinic, staff):
    existing = ConsentDocumentVersion.objects.filter(clinic=clinic, document__route="iv").first()
    if existing is not None:
        return existing
    document = ConsentDocumentFactory(clinic=clinic, route="iv")
    return ConsentVersionFactory(document=document, number=1, published_by=staff["admin"])


def _signature(clinic, patient, staff):
    version = _version(clinic, staff)
    live = ConsentSignature.objects.filter(
        patient=patient, document_version=version, withdrawn_at__isnull=True
    ).first()
    if live is not None:  # one live signature per text
        return live.pk
    return ConsentSignatureFactory(
        patient=patient,
        document_version=version,
        witnessed_by=staff["nurse"],
        recorded_by=staff["nurse"],
    ).pk


FACTORIES = {
    "document_id": lambda clinic, patient, staff: (
        ConsentDocumentFactory(clinic=clinic, route="iv").pk
    ),
    "document_version_id": lambda clinic, patient, staff: _version(clinic, staff).pk,
    "signature_id": lambda clinic, patient, staff: _signature(clinic, patient, staff),
}
