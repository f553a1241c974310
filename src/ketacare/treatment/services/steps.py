"""The shared step helper: claim, lock, replay, version and state checks, audit, event times."""

from datetime import datetime
from typing import Any, NoReturn, TypeVar

from django.db import IntegrityError, models, transaction
from django.http import Http404

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.errors import InvalidInput
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import KEY, ensure_key, key_reused
from ketacare.kernel.versions import ensure_version
from ketacare.patients.selectors import patient_lock_for_write
from ketacare.scheduling.selectors import clinic_zone
from ketacare.scheduling.services import appointment_set_status
from ketacare.treatment import rules, states
from ketacare.treatment.models import (
    DoseOrder,
    DoseOrderStatus,
    PreDoseCheck,
    SessionStatus,
    SessionSubmission,
    TreatmentSession,
)

S = SessionStatus
ModelT = TypeVar("ModelT", bound=models.Model)

IDEMPOTENCY_KEY = KEY  # the kernel's one key rule
MAX_TEXT = 2000


# --- helpers ------------------------------------------------------------------------------------


def _text(value: str | None, field: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise Refused("This needs a reason or a description.", field=field, code="required")
    if len(text) > MAX_TEXT:
        raise Refused(f"Keep this under {MAX_TEXT} characters.", field=field, code="too_long")
    return text


def _claim(actor: Actor, key: str, step: str) -> SessionSubmission | None:
    """Claim an idempotency key for a step; the earlier submission if the key was used."""
    ensure_key(key)
    try:
        with transaction.atomic():
            SessionSubmission.objects.create(
                clinic_id=actor.clinic_id, idempotency_key=key, step=step, user=actor.user
            )
    except IntegrityError:  # used before (or racing in from a second request, now committed)
        previous = SessionSubmission.objects.get(clinic_id=actor.clinic_id, idempotency_key=key)
        if previous.step != step or previous.result_id is None:
            raise key_reused("a different step") from None
        return previous
    return None


def _settle(actor: Actor, key: str, session: TreatmentSession, result_id: int) -> None:
    SessionSubmission.objects.filter(clinic_id=actor.clinic_id, idempotency_key=key).update(
        session=session, result_id=result_id
    )


def _replay(
    actor: Actor, key: str, step: str, model: type[ModelT], *, session_id: int | None = None
) -> ModelT | None:
    previous = _claim(actor, key, step)
    if previous is None:
        return None
    if session_id is not None and previous.session_id != session_id:
        raise key_reused("another session")
    return model._default_manager.get(pk=previous.result_id, clinic_id=actor.clinic_id)


def _lock(actor: Actor, session_id: int) -> TreatmentSession:
    """The session row, locked for this transaction; another clinic's is not found.

    The patient's row is locked first, as `patient_merge` locks it before it moves the sessions,
    so a step and a merge queue behind each other; a chart merged away is refused.
    """
    sessions = TreatmentSession.objects.filter(pk=session_id, clinic_id=actor.clinic_id)
    # Twice at most: a merge that moved the session between the two reads names its new chart.
    for _attempt in range(2):
        patient_id = sessions.values_list("patient_id", flat=True).first()
        if patient_id is None:
            break
        patient = patient_lock_for_write(clinic_id=actor.clinic_id, patient_id=patient_id)
        session = (
            sessions.select_for_update(of=("self",))
            .select_related("patient", "course")
            .filter(patient_id=patient.pk)
            .first()
        )
        if session is not None:
            return session
    raise Http404("Session not found.")


def _check_version(session: TreatmentSession, version: int | None) -> None:
    ensure_version("session", seen=version, current=session.version)


def _begin_step(
    actor: Actor,
    permission: Permission,
    session_id: int,
    key: str,
    step: str,
    model: type[ModelT],
) -> tuple[TreatmentSession, ModelT | None]:
    """Open a step on a session: the permission, then the row lock, then the idempotent replay.

    Returns the locked session and, if this key already recorded the step, its first result,
    which the caller returns as it is.
    """
    actor.require(permission)
    session = _lock(actor, session_id)
    return session, _replay(actor, key, step, model, session_id=session.pk)


def _begin_versioned_step(
    actor: Actor,
    permission: Permission,
    session_id: int,
    key: str,
    step: str,
    model: type[ModelT],
    *,
    version: int | None,
    target: str | None = None,
) -> tuple[TreatmentSession, ModelT | None]:
    """`_begin_step`, then, for a new submission, the version check and the move to `target`.

    The replay comes before the version check, so a retried submission gets its first result
    back rather than a 409 for the version its own first attempt bumped.
    """
    session, replayed = _begin_step(actor, permission, session_id, key, step, model)
    if replayed is None:
        _check_version(session, version)
        if target is not None:
            states.ensure_transition(session.status, target)
    return session, replayed


def _move(session: TreatmentSession, target: str | None = None, **fields: Any) -> None:
    """Change the session (and its status, if the state machine allows), bumping its version."""
    if target is not None:
        states.ensure_transition(session.status, target)
        session.status = target
        fields["status"] = target
    for name, value in fields.items():
        setattr(session, name, value)
    session.version += 1
    session.save(update_fields=[*fields, "version"])


def _audit(
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: int,
    session: TreatmentSession,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        patient_id=session.patient_id,
        detail={"session_id": session.pk, **(detail or {})},
    )


def _event_time(
    session: TreatmentSession, at: datetime | None, field: str, *, not_before: datetime | None
) -> datetime:
    """A recorded event time: now by default; never in the future or before `not_before`."""
    now = clock.now()
    moment = at or now
    if moment.tzinfo is None:
        raise Refused("Give the time with its time zone.", field=field, code="naive_time")
    clock.ensure_not_future(
        moment, field=field, message="This time is in the future.", code="future_time"
    )
    floor = not_before or session.checked_in_at
    if moment < floor:
        raise Refused(
            f"This time is before {floor.astimezone(clinic_zone(session.clinic)):%H:%M}, "
            "which cannot be.",
            field=field,
            code="too_early",
        )
    return moment


def _live_order(session: TreatmentSession) -> DoseOrder | None:
    return (
        DoseOrder.objects.filter(
            session=session, status__in=[DoseOrderStatus.ORDERED, DoseOrderStatus.VERIFIED]
        )
        .select_related("ordered_by")
        .first()
    )


def _current_pre_check(session: TreatmentSession) -> PreDoseCheck | None:
    return PreDoseCheck.objects.filter(session=session).order_by("-recorded_at", "-id").first()


def _clearance(session: TreatmentSession) -> rules.Clearance:
    from ketacare.treatment.facts import step_facts

    return step_facts(session).clearance


def invariant(message: str) -> NoReturn:
    """A state the step's own checks rule out (a bug, not a refusal): answer 500, write nothing."""
    raise RuntimeError(f"session invariant broken: {message}")


def _set_appointment(actor: Actor, session: TreatmentSession, status: str) -> None:
    appointment = session.appointment
    if appointment is None or appointment.status == status:
        return
    appointment_set_status(actor=actor, appointment=appointment, status=status, now=clock.now())


def _rename_field(error: InvalidInput, field: str) -> InvalidInput:
    return InvalidInput(error.message, field=field)
