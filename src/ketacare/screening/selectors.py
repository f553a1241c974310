"""Reads of screenings, scoped to the clinic."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.patients.facts import facts_to_json
from ketacare.patients.models import Patient
from ketacare.patients.selectors import intake_facts_for, patient_get_for_actor
from ketacare.screening.models import Screening, ScreeningStatus


def screening_allows_treatment(screening: Screening) -> bool:
    """Signed; short of eligible, signed with a reason (and co-signed when ineligible)."""
    if screening.signed_by_id is None or screening.superseded_at is not None:
        return False
    if screening.status == ScreeningStatus.ELIGIBLE:
        return True
    if not screening.sign_reason.strip():
        return False
    if screening.status == ScreeningStatus.INELIGIBLE:
        return screening.cosigned_by_id is not None
    return True


def screening_current_for(*, patient: Patient, route: str | None = None) -> Screening | None:
    """The latest screening of the patient (for the route, if given) that is not superseded.

    Callers check `screening_allows_treatment` and whether it is out of date before relying on it.
    """
    screenings = Screening.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, superseded_at__isnull=True
    )
    if route is not None:
        screenings = screenings.filter(route=route)
    return screenings.order_by("-run_at", "-id").first()


def current_facts_json(*, patient: Patient) -> dict[str, Any]:
    """The patient's chart facts now, in the form screenings snapshot them."""
    return facts_to_json(intake_facts_for(patient=patient))


def changed_facts(screening: Screening, current: dict[str, Any]) -> list[str]:
    """The facts the screening used whose current value differs from its snapshot."""
    snapshot = screening.facts or {}
    return [name for name in screening.facts_used if snapshot.get(name) != current.get(name)]


def screening_out_of_date(screening: Screening) -> list[str]:
    """The facts the screening used whose value in the chart now differs; empty means current."""
    return changed_facts(screening, current_facts_json(patient=screening.patient))


def _with_people() -> QuerySet[Screening]:
    return Screening.objects.select_related("patient__clinic", "run_by", "signed_by", "cosigned_by")


def screening_get_for_actor(
    *, actor: Actor, screening_id: int, permission: Permission = Permission.CHART_VIEW
) -> Screening:
    """One screening of the actor's clinic (404 for any other); not audited (callers audit)."""
    actor.require(permission)
    screening = _with_people().filter(clinic_id=actor.clinic_id, pk=screening_id).first()
    if screening is None:
        raise Http404("Screening not found.")
    return screening


@dataclass(frozen=True)
class ScreeningView:
    """A screening as a prescriber reads it: the result, whether it is current, what it allows."""

    screening: Screening
    out_of_date: list[str]
    allows_treatment: bool
    is_current: bool

    @property
    def fired(self) -> list[dict[str, Any]]:
        fired: list[dict[str, Any]] = self.screening.result.get("fired", [])
        return fired

    @property
    def missing_facts(self) -> list[str]:
        missing: list[str] = self.screening.result.get("missing_facts", [])
        return missing

    @property
    def unrecognised(self) -> list[dict[str, Any]]:
        """Recorded entries the vocabularies could not read (each makes it needs review)."""
        entries: list[dict[str, Any]] = self.screening.result.get("unrecognised", [])
        return entries

    @property
    def readings(self) -> list[dict[str, Any]]:
        """How every recorded entry was read (fact, entry, understood, meaning)."""
        entries: list[dict[str, Any]] = self.screening.result.get("readings", [])
        return entries

    @property
    def waiting_for(self) -> str:
        """What must happen next for this screening to allow treatment ("" when it does)."""
        s = self.screening
        if s.superseded_at is not None:
            return "Superseded by a newer screening."
        if self.out_of_date:
            return "The chart changed since this ran: run the screening again."
        if s.signed_by_id is None:
            if s.status == ScreeningStatus.ELIGIBLE:
                return "A prescriber's signature."
            return "A prescriber's signature with a documented reason."
        if s.status == ScreeningStatus.INELIGIBLE and s.cosigned_by_id is None:
            return "A second prescriber's co-signature."
        return ""


def screening_view_for_actor(*, actor: Actor, screening_id: int) -> ScreeningView:
    """A screening with its currency and what it allows; the read is audited."""
    screening = screening_get_for_actor(actor=actor, screening_id=screening_id)
    out_of_date = screening_out_of_date(screening)
    current = screening_current_for(patient=screening.patient, route=screening.route)
    audit_record(
        actor=actor,
        action=AuditAction.READ,
        object_type="screening",
        object_id=screening.pk,
        patient_id=screening.patient_id,
    )
    return ScreeningView(
        screening=screening,
        out_of_date=out_of_date,
        allows_treatment=screening_allows_treatment(screening) and not out_of_date,
        is_current=current is not None and current.pk == screening.pk,
    )


def screenings_of_patient(
    *, actor: Actor, patient_id: int, limit: int = 50
) -> tuple[Patient, list[ScreeningView]]:
    """A patient's screenings, newest first, each with its currency; the read is audited."""
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.CHART_VIEW, audit=False
    )
    screenings = list(
        _with_people()
        .filter(clinic_id=actor.clinic_id, patient=patient)
        .order_by("-run_at", "-id")[:limit]
    )
    current = current_facts_json(patient=patient) if screenings else {}
    latest_per_route: dict[str, int] = {}
    for screening in screenings:
        if screening.superseded_at is None:
            latest_per_route.setdefault(screening.route, screening.pk)
    views = []
    for screening in screenings:
        out_of_date = changed_facts(screening, current) if screening.superseded_at is None else []
        views.append(
            ScreeningView(
                screening=screening,
                out_of_date=out_of_date,
                allows_treatment=screening_allows_treatment(screening) and not out_of_date,
                is_current=latest_per_route.get(screening.route) == screening.pk,
            )
        )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="screening",
        patient_id=patient.pk,
        detail={"screening_ids": [s.pk for s in screenings]},
    )
    return patient, views


def screenings_current_of(
    *, patient: Patient, current: dict[str, Any] | None = None
) -> list[ScreeningView]:
    """The standing screening of each route for the patient page (not audited: the page is).

    `current` is the chart's facts as JSON when the caller has them already.
    """
    latest: dict[str, Screening] = {}
    rows = _with_people().filter(
        clinic_id=patient.clinic_id, patient=patient, superseded_at__isnull=True
    )
    for screening in rows.order_by("-run_at", "-id"):
        latest.setdefault(screening.route, screening)
    if not latest:
        return []
    if current is None:
        current = current_facts_json(patient=patient)
    views = []
    for screening in latest.values():
        out_of_date = changed_facts(screening, current)
        views.append(
            ScreeningView(
                screening=screening,
                out_of_date=out_of_date,
                allows_treatment=screening_allows_treatment(screening) and not out_of_date,
                is_current=True,
            )
        )
    return views
