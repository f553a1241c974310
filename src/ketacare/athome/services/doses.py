"""The patient's and sitter's writes from the portal: open a dose, the sitter attests, the gate,
the dose taken, the tracker. The portal link is the key; each write is audited as the portal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from ketacare.athome.models import (
    DoseStatus,
    HomeDose,
    HomeProgramme,
    SitterCheckIn,
    SupplyKind,
    SupplyMovement,
)
from ketacare.athome.selectors import (
    SOURCE_PREFIX,
    active_programme_of,
    clinic_day,
    open_dose_of,
    release_facts,
)
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.athome import (
    GateFacts,
    assess_tracker,
    check_dose_gate,
    check_release,
    check_sitter_checkin,
    gate_alert_codes,
    load_home_rules,
)
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.outcomes.models import PortalLink, PortalLinkPurpose
from ketacare.outcomes.services import PORTAL_USERNAME, alert_raise_for_event

# How long the portal's session timer runs, and when the tracker falls due after a dose
# (clinic policy: the tracker is asked once the effects have passed, the same day).
SESSION_MINUTES = 60
TRACKER_DUE_AFTER = timedelta(hours=24)
SITTER_USERNAME = "portal-sitter"


def _audit(link: PortalLink, dose: HomeDose, action: str, detail: dict[str, Any], *,
           address: str | None, username: str = PORTAL_USERNAME) -> None:  # fmt: skip
    audit_record(
        actor=None, action=action, object_type="home_dose", object_id=dose.pk,
        patient_id=dose.patient_id, clinic_id=dose.clinic_id, username=username,
        client_address=address, detail={"link_id": link.pk, **detail},
    )  # fmt: skip


def programme_of_link(link: PortalLink) -> HomeProgramme:
    """The programme a patient's or sitter's link opens; refused when there is none."""
    if link.purpose not in (PortalLinkPurpose.HOME_DOSES, PortalLinkPurpose.SITTER):
        raise Refused("This link does not open home doses.", field="link", code="wrong_link")
    programme = active_programme_of(patient_id=link.patient_id)
    if programme is None or programme.status != "active":
        raise Refused(
            "Your at-home programme is paused; the clinic will contact you.",
            field="programme",
            code="programme_not_active",
        )
    return programme


def _locked_dose(link: PortalLink, dose_id: int) -> HomeDose:
    dose = HomeDose.objects.select_for_update().filter(pk=dose_id, clinic_id=link.clinic_id).first()
    if dose is None or dose.patient_id != link.patient_id:
        # A sitter's (or patient's) link never reaches another patient's dose.
        raise Refused(
            "This dose belongs to someone else's session.",
            field="dose",
            code="dose_of_another_patient",
        )
    return dose


@transaction.atomic
def home_dose_open(*, link: PortalLink, address: str | None = None) -> HomeDose:
    """Open today's dose when the core releases it (tracker in, no open flag, spacing, supply)."""
    if link.purpose != PortalLinkPurpose.HOME_DOSES:
        raise Refused("Only the patient's link opens a dose.", field="link", code="wrong_link")
    programme = HomeProgramme.objects.select_for_update().get(pk=programme_of_link(link).pk)
    current = open_dose_of(programme)
    if current is not None:
        return current
    blockers = check_release(release_facts(programme, today=clinic_day(programme.clinic.time_zone)))
    if blockers:
        raise Refused(blockers[0].reason, field=blockers[0].field, code=blockers[0].code)
    taken = programme.doses.filter(status__in=[DoseStatus.TAKEN, DoseStatus.TRACKED]).count()
    dose = HomeDose.objects.create(
        clinic_id=programme.clinic_id, programme=programme, patient_id=programme.patient_id,
        number=taken + 1, dose_mg=programme.dose_mg, units=programme.units_per_dose,
        opened_at=clock.now(), sitter_name=programme.sitter_name,
    )  # fmt: skip
    _audit(link, dose, AuditAction.CREATE, {"number": dose.number}, address=address)
    return dose


@transaction.atomic
def home_dose_sitter_attest(
    *, link: PortalLink, dose_id: int, address: str | None = None
) -> HomeDose:
    """The sitter, from their own link, confirms they are with the patient for this dose."""
    if link.purpose != PortalLinkPurpose.SITTER:
        raise Refused("Only the sitter's own link attests.", field="link", code="wrong_link")
    dose = _locked_dose(link, dose_id)
    if dose.status != DoseStatus.OPEN:
        raise Refused(
            "This dose is no longer waiting for the sitter.", field="dose", code="dose_not_open"
        )
    if dose.sitter_attested_at is None:
        dose.sitter_attested_at = clock.now()
        dose.save(update_fields=["sitter_attested_at"])
        _audit(link, dose, AuditAction.UPDATE, {"sitter": "attested"}, address=address,
               username=SITTER_USERNAME)  # fmt: skip
    return dose


@transaction.atomic
def home_dose_gate(
    *, link: PortalLink, dose_id: int, systolic: int | None, diastolic: int | None,
    heart_rate: int | None, fasting: bool | None, no_alcohol_or_substances: bool | None,
    safe_place: bool | None, address: str | None = None,
) -> HomeDose:  # fmt: skip
    """Check the gate: passed → ready to take; refused → blocked today, with an alert when
    BP or heart rate is above the limit. The readings are kept either way."""
    if link.purpose != PortalLinkPurpose.HOME_DOSES:
        raise Refused("Only the patient's link checks the gate.", field="link", code="wrong_link")
    dose = _locked_dose(link, dose_id)
    if dose.status != DoseStatus.OPEN:
        raise Refused("This dose has already been checked.", field="dose", code="dose_not_open")
    facts = GateFacts(
        sitter_attested=dose.sitter_attested_at is not None, systolic=systolic,
        diastolic=diastolic, heart_rate=heart_rate, fasting=fasting,
        no_alcohol_or_substances=no_alcohol_or_substances, safe_place=safe_place,
    )  # fmt: skip
    blockers = check_dose_gate(facts)
    blocking = [b for b in blockers if b.code not in _RETRYABLE]
    if blockers and not blocking:
        # Nothing about today rules the dose out: the sitter or an answer is still missing.
        raise Refused(blockers[0].reason, field=blockers[0].field, code=blockers[0].code)
    now = clock.now()
    dose.systolic, dose.diastolic, dose.heart_rate = systolic, diastolic, heart_rate
    dose.fasting, dose.no_alcohol_or_substances, dose.safe_place = (
        fasting,
        no_alcohol_or_substances,
        safe_place,
    )
    dose.gate_checked_at = now
    dose.gate_codes = [b.code for b in blockers]
    dose.status = DoseStatus.BLOCKED if blocking else DoseStatus.READY
    dose.save()
    _audit(link, dose, AuditAction.UPDATE, {"gate": dose.gate_codes or "passed"}, address=address)
    rules = load_home_rules()
    for code in gate_alert_codes(tuple(blockers)):
        reason = next(b.reason for b in blockers if b.code == code)
        alert_raise_for_event(
            clinic_id=dose.clinic_id, patient_id=dose.patient_id, code=code,
            meaning=f"Home dose {dose.number} blocked: {reason} ({rules.gate.citation.render()})",
            source_key=f"{SOURCE_PREFIX}{dose.pk}",
            source_label=f"At-home dose {dose.number}: the gate",
            evidence={"bp": f"{systolic}/{diastolic}", "heart_rate": heart_rate,
                      "dose_id": dose.pk},
            raised_at=now,
        )  # fmt: skip
    return dose


# Gate refusals the patient can put right on the spot (the sitter confirms, an answer is given);
# every other refusal blocks today's dose.
_RETRYABLE = {"home_sitter_not_attested", "home_check_unanswered", "home_vitals_missing",
              "home_vitals_implausible"}  # fmt: skip


@transaction.atomic
def home_dose_take(*, link: PortalLink, dose_id: int, address: str | None = None) -> HomeDose:
    """The patient has taken the dose: the supply falls, the timer starts, the tracker is due."""
    if link.purpose != PortalLinkPurpose.HOME_DOSES:
        raise Refused("Only the patient's link records the dose.", field="link", code="wrong_link")
    dose = _locked_dose(link, dose_id)
    if dose.status != DoseStatus.READY:
        raise Refused("Pass today's check first.", field="dose", code="gate_not_passed")
    now = clock.now()
    dose.status, dose.taken_at = DoseStatus.TAKEN, now
    dose.tracker_due_at = now + TRACKER_DUE_AFTER
    dose.save(update_fields=["status", "taken_at", "tracker_due_at"])
    SupplyMovement.objects.create(
        clinic_id=dose.clinic_id, programme_id=dose.programme_id, patient_id=dose.patient_id,
        kind=SupplyKind.TAKEN, units=dose.units, dose=dose, occurred_at=now,
    )  # fmt: skip
    _audit(link, dose, AuditAction.UPDATE, {"taken": dose.units}, address=address)
    return dose


@transaction.atomic
def home_dose_tracker_submit(
    *, link: PortalLink, dose_id: int, answers: dict[str, int | None], address: str | None = None
) -> HomeDose:
    """Store the tracker; each red flag opens a safety alert and holds the next dose."""
    if link.purpose != PortalLinkPurpose.HOME_DOSES:
        raise Refused("Only the patient's link sends the tracker.", field="link", code="wrong_link")
    dose = _locked_dose(link, dose_id)
    if dose.status != DoseStatus.TAKEN:
        raise Refused(
            "There is no tracker due for this dose.", field="dose", code="tracker_not_due"
        )
    assessment = assess_tracker(answers)
    if not assessment.complete:
        raise Refused(
            "Answer every question before sending.",
            field=assessment.missing[0],
            code="tracker_incomplete",
        )
    now = clock.now()
    dose.tracker_answers = {k: answers[k] for k in sorted(answers) if answers[k] is not None}
    dose.tracker_submitted_at, dose.status = now, DoseStatus.TRACKED
    dose.red_flags = [flag.code for flag in assessment.red_flags]
    dose.save(update_fields=["tracker_answers", "tracker_submitted_at", "status", "red_flags"])
    _audit(
        link,
        dose,
        AuditAction.UPDATE,
        {"tracker": dose.red_flags or "no red flag"},
        address=address,
    )
    for flag in assessment.red_flags:
        alert_raise_for_event(
            clinic_id=dose.clinic_id, patient_id=dose.patient_id, code=flag.code,
            meaning=f"{flag.meaning} ({flag.citation.render()})",
            source_key=f"{SOURCE_PREFIX}{dose.pk}",
            source_label=f"At-home dose {dose.number}: the tracker",
            evidence={"item": flag.item, "answer": answers[flag.item], "dose_id": dose.pk},
            raised_at=now,
        )  # fmt: skip
    return dose


def session_ends_at(dose: HomeDose) -> datetime | None:
    """When the session timer of a taken dose ends (None before the dose is taken)."""
    return None if dose.taken_at is None else dose.taken_at + timedelta(minutes=SESSION_MINUTES)


@transaction.atomic
def home_dose_sitter_checkin(
    *, link: PortalLink, dose_id: int, well: bool | None, note: str = "",
    address: str | None = None,
) -> SitterCheckIn:  # fmt: skip
    """The sitter checks in during the session from their own link; a worry opens an alert."""
    if link.purpose != PortalLinkPurpose.SITTER:
        raise Refused("Only the sitter's own link checks in.", field="link", code="wrong_link")
    dose = _locked_dose(link, dose_id)
    now = clock.now()
    ends = session_ends_at(dose)
    in_session = dose.status == DoseStatus.TAKEN and ends is not None and now <= ends
    blockers, alert_code = check_sitter_checkin(in_session=in_session, well=well)
    if blockers:
        raise Refused(blockers[0].reason, field=blockers[0].field, code=blockers[0].code)
    checkin = SitterCheckIn.objects.create(
        clinic_id=dose.clinic_id, dose=dose, patient_id=dose.patient_id, at=now,
        well=bool(well), note=(note or "").strip()[:2000],
    )  # fmt: skip
    _audit(link, dose, AuditAction.CREATE, {"sitter_checkin": "well" if well else "worried"},
           address=address, username=SITTER_USERNAME)  # fmt: skip
    if alert_code is not None:
        rule = load_home_rules().sitter_checkins
        alert_raise_for_event(
            clinic_id=dose.clinic_id, patient_id=dose.patient_id, code=alert_code,
            meaning=(
                f"The sitter is worried during home dose {dose.number}"
                f"{': ' + checkin.note if checkin.note else ''} ({rule.citation.render()})"
            ),
            source_key=f"{SOURCE_PREFIX}{dose.pk}",
            source_label=f"At-home dose {dose.number}: the sitter's check-in",
            evidence={"checkin_id": checkin.pk, "dose_id": dose.pk},
            raised_at=now,
        )  # fmt: skip
    return checkin
