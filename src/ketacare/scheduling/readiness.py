"""The one selector that gathers readiness facts; every place that decides or shows readiness
(course start, check-in, the readiness panel, the patient page, the session) asks the core's
`readiness.assess` over what it returns."""

from typing import Any

from ketacare.clinical.protocols import Protocol, get_protocol, load_protocols
from ketacare.clinical.readiness import (
    ConsentFacts,
    CourseFacts,
    DoseFacts,
    Readiness,
    ReadinessFacts,
    ScreeningFacts,
    assess,
)
from ketacare.consent.models import ConsentDocumentVersion, ConsentSignature
from ketacare.consent.selectors import ConsentStatus
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Course, CourseStatus
from ketacare.screening.models import Screening
from ketacare.screening.selectors import changed_facts, current_facts_json, screening_facts_of


def _screening_facts(screening: Screening | None, current: dict[str, Any]) -> ScreeningFacts | None:
    return (
        None
        if screening is None
        else screening_facts_of(screening, changed_facts(screening, current))
    )


def _route_facts_of(
    patient: Patient, routes: set[str], current: dict[str, Any] | None
) -> dict[str, tuple[ScreeningFacts | None, ConsentFacts]]:
    """Screening and consent facts for each route, in three queries whatever the routes."""
    screenings: dict[str, Screening] = {}
    for screening in Screening.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, superseded_at__isnull=True, route__in=routes
    ).order_by("-run_at", "-id"):
        screenings.setdefault(screening.route, screening)
    latest: dict[str, ConsentDocumentVersion] = {}
    for version in (
        ConsentDocumentVersion.objects.filter(
            clinic_id=patient.clinic_id, document__route__in=routes
        )
        .select_related("document")
        .defer("body")
        .order_by("-number")
    ):
        latest.setdefault(version.document.route, version)
    signatures: dict[str, ConsentSignature] = {}
    for signature in (
        ConsentSignature.objects.filter(
            clinic_id=patient.clinic_id,
            patient=patient,
            withdrawn_at__isnull=True,
            document_version__document__route__in=routes,
        )
        .select_related("document_version__document")
        .defer("document_version__body")
        .order_by("-signed_at", "-id")
    ):
        signatures.setdefault(signature.document_version.document.route, signature)
    if current is None and screenings:
        current = current_facts_json(patient=patient)
    facts = {}
    for route in routes:
        status = ConsentStatus(signature=signatures.get(route), latest_version=latest.get(route))
        facts[route] = (
            _screening_facts(screenings.get(route), current or {}),
            ConsentFacts(
                signed=status.has_consent,
                on_latest_text=not status.needs_reconsent,
                latest_version=status.latest_version.number if status.latest_version else None,
                signature_id=status.signature.pk if status.signature is not None else None,
            ),
        )
    return facts


def readiness_facts(
    *,
    patient: Patient,
    protocol: Protocol,
    course: Course | None = None,
    dose: DoseFacts | None = None,
    current: dict[str, Any] | None = None,
    route_facts: tuple[ScreeningFacts | None, ConsentFacts] | None = None,
) -> ReadinessFacts:
    """Everything readiness reads for a patient and protocol: screening, consent, the course,
    and (from the session, when there is one) the dose's clearance and verification."""
    screening, consent = (
        route_facts or _route_facts_of(patient, {protocol.route}, current)[protocol.route]
    )
    return ReadinessFacts(
        protocol_id=protocol.id,
        protocol_title=protocol.title,
        route=protocol.route,
        requires_trd=protocol.requires_trd,
        screening=screening,
        consent=consent,
        course=(
            None
            if course is None
            else CourseFacts(
                id=course.pk,
                active=course.status == CourseStatus.ACTIVE,
                status_label=course.get_status_display(),
            )
        ),
        dose=dose,
    )


def readiness_of(
    *,
    patient: Patient,
    protocol: Protocol,
    course: Course | None = None,
    dose: DoseFacts | None = None,
) -> Readiness:
    """The core's readiness for a patient and protocol (course, session when given)."""
    return assess(readiness_facts(patient=patient, protocol=protocol, course=course, dose=dose))


def readiness_of_course(*, course: Course, dose: DoseFacts | None = None) -> Readiness:
    """The core's readiness for a course's protocol, check-in included."""
    return readiness_of(
        patient=course.patient, protocol=get_protocol(course.protocol_id), course=course, dose=dose
    )


def readiness_by_protocol(*, patient: Patient) -> list[tuple[Protocol, Readiness]]:
    """For the readiness panel and the patient page: each protocol's readiness to start a course."""
    protocols = sorted(load_protocols().values(), key=lambda p: (p.route, p.id))
    by_route = _route_facts_of(patient, {p.route for p in protocols}, None)
    return [
        (
            protocol,
            assess(
                readiness_facts(
                    patient=patient, protocol=protocol, route_facts=by_route[protocol.route]
                )
            ),
        )
        for protocol in protocols
    ]
