"""The screening API: run the eligibility engine on the chart, read, sign and co-sign."""

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from ketacare.accounts.api_auth import api_actor, operation
from ketacare.accounts.permissions import Permission
from ketacare.patients.selectors import patient_get_for_actor
from ketacare.screening import selectors, services
from ketacare.screening.schemas import (
    ScreeningCosignIn,
    ScreeningOut,
    ScreeningRunIn,
    ScreeningSignIn,
)

router = Router(tags=["screening"])


def _out(view: selectors.ScreeningView) -> dict[str, Any]:
    s = view.screening
    return {
        "id": s.pk,
        "patient_id": s.patient_id,
        "protocol_id": s.protocol_id,
        "protocol_version": s.protocol_version,
        "protocol_title": s.result.get("protocol_title", ""),
        "route": s.route,
        "status": s.status,
        "fired": view.fired,
        "missing_facts": view.missing_facts,
        "unrecognised": view.unrecognised,
        "readings": view.readings,
        "notes": s.result.get("notes", []),
        "facts": s.facts,
        "facts_used": s.facts_used,
        "run_by": s.run_by,
        "run_at": s.run_at,
        "signed_by": s.signed_by,
        "signed_at": s.signed_at,
        "sign_reason": s.sign_reason,
        "cosigned_by": s.cosigned_by,
        "cosigned_at": s.cosigned_at,
        "cosign_note": s.cosign_note,
        "superseded_at": s.superseded_at,
        "version": s.version,
        "out_of_date": view.out_of_date,
        "allows_treatment": view.allows_treatment,
        "waiting_for": view.waiting_for,
    }


@operation(
    router.post,
    "/patients/{patient_id}/screenings",
    Permission.SCREENING_RUN,
    response={201: ScreeningOut},
)
def run_screening(
    request: HttpRequest, patient_id: int, payload: ScreeningRunIn
) -> Status[dict[str, Any]]:
    """Screen the chart for a protocol; supersedes the route's earlier unsigned screenings."""
    actor = api_actor(request)
    patient = patient_get_for_actor(
        actor=actor, patient_id=patient_id, permission=Permission.SCREENING_RUN, audit=False
    )
    screening = services.screening_run(
        actor=actor, patient=patient, protocol_id=payload.protocol_id
    )
    return Status(
        201, _out(selectors.screening_view_for_actor(actor=actor, screening_id=screening.pk))
    )


@operation(
    router.get,
    "/patients/{patient_id}/screenings",
    Permission.CHART_VIEW,
    response=list[ScreeningOut],
)
def list_screenings(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    """The patient's screenings, newest first, each saying whether it is current."""
    _, views = selectors.screenings_of_patient(actor=api_actor(request), patient_id=patient_id)
    return [_out(view) for view in views]


@operation(router.get, "/screenings/{screening_id}", Permission.CHART_VIEW, response=ScreeningOut)
def get_screening(request: HttpRequest, screening_id: int) -> dict[str, Any]:
    """One screening: verdict, fired rules with reasons and sources, missing facts, signatures."""
    return _out(
        selectors.screening_view_for_actor(actor=api_actor(request), screening_id=screening_id)
    )


@operation(
    router.post,
    "/screenings/{screening_id}/sign",
    Permission.SCREENING_SIGN,
    response=ScreeningOut,
)
def sign_screening(
    request: HttpRequest, screening_id: int, payload: ScreeningSignIn
) -> dict[str, Any]:
    """Sign as prescriber. Needs review or ineligible: `reason` is required (422 without it)."""
    actor = api_actor(request)
    screening = selectors.screening_get_for_actor(
        actor=actor, screening_id=screening_id, permission=Permission.SCREENING_SIGN
    )
    services.screening_sign(
        actor=actor, screening=screening, reason=payload.reason, version=payload.version
    )
    return _out(selectors.screening_view_for_actor(actor=actor, screening_id=screening_id))


@operation(
    router.post,
    "/screenings/{screening_id}/cosign",
    Permission.SCREENING_SIGN,
    response=ScreeningOut,
)
def cosign_screening(
    request: HttpRequest, screening_id: int, payload: ScreeningCosignIn
) -> dict[str, Any]:
    """Co-sign an ineligible, signed screening as a second, different prescriber."""
    actor = api_actor(request)
    screening = selectors.screening_get_for_actor(
        actor=actor, screening_id=screening_id, permission=Permission.SCREENING_SIGN
    )
    services.screening_cosign(
        actor=actor, screening=screening, note=payload.note, version=payload.version
    )
    return _out(selectors.screening_view_for_actor(actor=actor, screening_id=screening_id))
