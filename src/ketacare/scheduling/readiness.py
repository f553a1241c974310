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
from ketacare.clinical.readiness import (
    screening_blockers as core_screening_blockers,
)
from ketacare.consent.selectors import consent_status
from ketacare.patients.models import Patient
from ketacare.scheduling.models import Course, CourseStatus
from ketacare.screening.models import Screening
from ketacare.screening.selectors import (
    changed_facts,
    current_facts_json,
    screening_current_for,
)


def screening_facts_of(
    screening: Screening | None, current: dict[str, Any]
) -> ScreeningFacts | None:
    """A screening as the core's readiness reads it, against the chart's facts now."""
    if screening is None:
        return None
    screened_for = load_protocols().get(screening.protocol_id) if screening.protocol_id else None
    return ScreeningFacts(
        id=screening.pk,
        status=str(screening.status),
        signed=screening.signed_by_id is not None,
        has_sign_reason=bool(screening.sign_reason.strip()),
        cosigned=screening.cosigned_by_id is not None,
        superseded=screening.superseded_at is not None,
        changed_facts=tuple(changed_facts(screening, current)),
        screened_for_trd=screened_for is not None and screened_for.requires_trd,
    )


def screening_blocker_reasons(screening: Screening, current: dict[str, Any]) -> list[str]:
    """What holds treatment on this screening, in the core's words (empty: it allows treatment)."""
    facts = screening_facts_of(screening, current)
    return [b.reason for b in core_screening_blockers(facts, route=screening.route)]


def _route_facts(
    patient: Patient, route: str, current: dict[str, Any] | None
) -> tuple[ScreeningFacts | None, ConsentFacts]:
    screening = screening_current_for(patient=patient, route=route)
    if current is None and screening is not None:
        current = current_facts_json(patient=patient)
    consent = consent_status(patient=patient, route=route)
    latest = consent.latest_version
    return screening_facts_of(screening, current or {}), ConsentFacts(
        signed=consent.has_consent,
        on_latest_text=not consent.needs_reconsent,
        latest_version=latest.number if latest is not None else None,
    )


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
    screening, consent = route_facts or _route_facts(patient, protocol.route, current)
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
    current = current_facts_json(patient=patient)
    by_route: dict[str, tuple[ScreeningFacts | None, ConsentFacts]] = {}
    rows = []
    for protocol in sorted(load_protocols().values(), key=lambda p: (p.route, p.id)):
        if protocol.route not in by_route:
            by_route[protocol.route] = _route_facts(patient, protocol.route, current)
        facts = readiness_facts(
            patient=patient, protocol=protocol, route_facts=by_route[protocol.route]
        )
        rows.append((protocol, assess(facts)))
    return rows
