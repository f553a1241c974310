"""Staff writes: enrolment, prescriptions, dose steps. Each reads facts, asks the core once,
writes, and audits, in one transaction; a retried submission replays by its idempotency key."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction

from ketacare.accounts.access import Actor
from ketacare.accounts.permissions import Permission
from ketacare.accounts.reauth import reauth_require
from ketacare.athome.models import DoseStep, HomePrescription, HomeProgramme, VisitModality
from ketacare.athome.selectors import active_programme_of, clinic_day
from ketacare.athome.telehealth import telehealth_rules_for
from ketacare.audit.models import AuditAction
from ketacare.audit.services import audit_record
from ketacare.clinical.athome import check_dose_step, check_enrolment
from ketacare.clinical.protocols import FixedStepDose, get_protocol
from ketacare.clinical.telehealth import PrescriptionFacts, check_prescription
from ketacare.consent.selectors import consent_status
from ketacare.errors import Refused
from ketacare.kernel import clock
from ketacare.kernel.idempotency import ensure_key, replayed
from ketacare.patients.models import Patient
from ketacare.screening.selectors import (
    screening_current_for,
    screening_facts_of,
    screening_out_of_date,
)

PROTOCOL_ID = "sublingual_home"
CONSENT_ROUTE = "home_programme"


def _text(value: str | None, field: str, *, limit: int = 200) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise Refused("This field is required.", field=field, code="required")
    return cleaned[:limit]


def _patient(actor: Actor, patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id, clinic_id=actor.clinic_id).first()
    if patient is None:
        raise Refused("No such patient.", field="patient_id", code="not_found")
    return patient


@transaction.atomic
def programme_enrol(
    *, actor: Actor, patient_id: int, evaluation_on: date, evaluation_modality: str,
    sitter_name: str, sitter_phone: str = "", idempotency_key: str,
) -> HomeProgramme:  # fmt: skip
    """Enrol a patient after an evaluation visit, on the signed programme agreement."""
    actor.require(Permission.ATHOME_ENROL)
    key = ensure_key(idempotency_key)
    patient = _patient(actor, patient_id)
    earlier = replayed(
        HomeProgramme, clinic_id=actor.clinic_id, key=key, same=lambda p: p.patient_id == patient.pk
    )
    if earlier is not None:
        return earlier
    if evaluation_modality not in VisitModality.values:
        raise Refused(
            "Choose how the evaluation took place.", field="evaluation_modality", code="invalid"
        )
    today = clinic_day(actor.clinic.time_zone)
    if evaluation_on > today:
        raise Refused(
            "The evaluation visit cannot be in the future.",
            field="evaluation_on",
            code="in_the_future",
        )
    status = consent_status(patient=patient, route=CONSENT_ROUTE)
    if status.signature is None:
        raise Refused(
            "The patient signs the at-home programme agreement first.",
            field="consent",
            code="consent_missing",
        )
    if status.needs_reconsent:
        raise Refused(
            "The patient signs the latest programme agreement first.",
            field="consent",
            code="consent_outdated",
        )
    if active_programme_of(patient_id=patient.pk) is not None:
        raise Refused(
            "The patient is already in the programme.", field="patient_id", code="already_enrolled"
        )
    protocol = get_protocol(PROTOCOL_ID)
    # the screening for the protocol's route, as the core reads it; the core decides once
    screening = screening_current_for(patient=patient, route=protocol.route)
    facts = (
        None
        if screening is None
        else screening_facts_of(screening, screening_out_of_date(screening))
    )
    blockers = check_enrolment(facts, route=protocol.route)
    if blockers:
        raise Refused(blockers[0].reason, field=blockers[0].field, code=blockers[0].code)
    assert isinstance(protocol.dose, FixedStepDose)  # noqa: S101 - the shipped protocol's rule
    programme = HomeProgramme.objects.create(
        clinic=actor.clinic,
        patient=patient,
        protocol_id=PROTOCOL_ID,
        evaluation_on=evaluation_on,
        evaluation_modality=evaluation_modality,
        consent_signature_id=status.signature.pk,
        screening_id=None if facts is None else facts.id,
        dose_mg=protocol.dose.start_mg,
        doses_planned=protocol.schedule.sessions or 0,
        started_on=today,
        sitter_name=_text(sitter_name, "sitter_name", limit=120),
        sitter_phone=(sitter_phone or "").strip()[:40],
        enrolled_by=actor.user,
        enrolled_at=clock.now(),
        idempotency_key=key,
    )
    audit_record(
        actor=actor, action=AuditAction.CREATE, object_type="home_programme",
        object_id=programme.pk, patient_id=patient.pk,
        detail={
            "evaluation_on": evaluation_on.isoformat(), "modality": evaluation_modality,
            "screening_id": None if facts is None else facts.id,
        },
    )  # fmt: skip
    return programme


def _programme(actor: Actor, programme_id: int) -> HomeProgramme:
    programme = (
        HomeProgramme.objects.select_for_update()
        .filter(pk=programme_id, clinic_id=actor.clinic_id)
        .first()
    )
    if programme is None:
        raise Refused("No such programme.", field="programme_id", code="not_found")
    return programme


def _decimal(value: object, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Refused("Enter a number.", field=field, code="invalid") from None
    if not number.is_finite() or number <= 0:
        raise Refused("Enter a number above zero.", field=field, code="invalid")
    return number


@transaction.atomic
def prescription_issue(
    *, actor: Actor, programme_id: int, issued_on: date, drug: str, strength_mg: object,
    form: str, quantity: int, directions: str, refills: int, pharmacy: str,
    visit_modality: str | None, patient_state: str | None, dea_registration: str,
    dea_registration_state: str | None, in_person_evaluation_on: date | None,
    pdmp_checked_on: date | None, pdmp_result: str | None, pdmp_review: str = "",
    legal_basis: str | None, idempotency_key: str,
) -> HomePrescription:  # fmt: skip
    """Sign a prescription when the effective-dated telemedicine rules allow it on its date.

    The prescriber signs: their password or signing PIN again, in this request.
    """
    actor.require(Permission.ATHOME_PRESCRIBE)
    reauth_require(actor, what="the prescription")
    key = ensure_key(idempotency_key)
    programme = _programme(actor, programme_id)
    earlier = replayed(
        HomePrescription, clinic_id=actor.clinic_id, key=key,
        same=lambda p: p.programme_id == programme.pk,
    )  # fmt: skip
    if earlier is not None:
        return earlier
    strength = _decimal(strength_mg, "strength_mg")
    units = programme.dose_mg / strength
    if units != units.to_integral_value():
        raise Refused(
            f"A {programme.dose_mg} mg dose is not a whole number of {strength} mg units.",
            field="strength_mg",
            code="dose_not_whole_units",
        )
    if quantity < 1 or refills < 0:
        raise Refused("Quantity at least 1, refills 0 or more.", field="quantity", code="invalid")
    registration = (dea_registration or "").strip().upper()
    facts = PrescriptionFacts(
        issued_on=issued_on,
        legal_basis=legal_basis or None,
        modality=visit_modality or None,
        patient_state=patient_state,
        dea_registration_state=dea_registration_state,
        dea_registration_current=bool(registration) or None,
        in_person_evaluation_on=in_person_evaluation_on,
        pdmp_checked_on=pdmp_checked_on,
        pdmp_result=pdmp_result or None,
        pdmp_review_recorded=bool((pdmp_review or "").strip()),
    )
    # the shipped periods with the clinic's own bases where a period is configurable
    rules = telehealth_rules_for(clinic_id=actor.clinic_id)
    blockers = check_prescription(facts, rules)
    if blockers:
        refusal = blockers[0]
        raise Refused(refusal.reason, field=refusal.field, code=refusal.code)
    period = rules.period_on(issued_on)
    drug_text, form_text = _text(drug, "drug", limit=120), _text(form, "form", limit=60)
    directions_text = _text(directions, "directions", limit=2000)
    pharmacy_text = _text(pharmacy, "pharmacy")
    fields = {
        "drug": drug_text, "strength_mg": str(strength), "form": form_text, "quantity": quantity,
        "directions": directions_text, "refills": refills, "pharmacy": pharmacy_text,
        "issued_on": issued_on.isoformat(), "patient": programme.patient_id,
        "prescriber": actor.user.pk, "dea_registration": registration,
    }  # fmt: skip
    content = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    prescription = HomePrescription.objects.create(
        clinic=actor.clinic, programme=programme, patient_id=programme.patient_id,
        prescriber=actor.user, issued_on=issued_on, drug=drug_text, strength_mg=strength,
        form=form_text, quantity=quantity, directions=directions_text, refills=refills,
        pharmacy=pharmacy_text, visit_modality=visit_modality or "",
        patient_state=(patient_state or "").strip().upper(), dea_registration=registration,
        dea_registration_state=(dea_registration_state or "").strip().upper(),
        in_person_evaluation_on=in_person_evaluation_on, pdmp_checked_on=pdmp_checked_on,
        pdmp_result=pdmp_result or "", pdmp_review=(pdmp_review or "").strip(),
        legal_basis=legal_basis or "", rules_period=period.id if period else "",
        signed_at=clock.now(), content_sha256=content, idempotency_key=key,
    )  # fmt: skip
    programme.units_per_dose = int(units)
    programme.save(update_fields=["units_per_dose"])
    audit_record(
        actor=actor, action=AuditAction.CREATE, object_type="home_prescription",
        object_id=prescription.pk, patient_id=programme.patient_id,
        detail={"legal_basis": legal_basis, "period": prescription.rules_period,
                "pdmp_result": pdmp_result, "quantity": quantity, "refills": refills},
    )  # fmt: skip
    return prescription


@transaction.atomic
def dose_step_decide(*, actor: Actor, programme_id: int, dose_mg: object, reason: str) -> DoseStep:
    """The prescriber changes the home dose within the protocol, from the trackers."""
    actor.require(Permission.ATHOME_PRESCRIBE)
    programme = _programme(actor, programme_id)
    new_mg = _decimal(dose_mg, "dose_mg")
    rule = get_protocol(programme.protocol_id).dose
    assert isinstance(rule, FixedStepDose)  # noqa: S101 - the home protocol is fixed-step
    blockers = check_dose_step(rule, current_mg=programme.dose_mg, new_mg=new_mg)
    if blockers:
        refusal = blockers[0]
        raise Refused(refusal.reason, field=refusal.field, code=refusal.code)
    prescription = programme.prescriptions.first()
    if prescription is not None:
        units = new_mg / prescription.strength_mg
        if units != units.to_integral_value():
            raise Refused(
                f"{new_mg} mg is not a whole number of {prescription.strength_mg} mg units.",
                field="dose_mg",
                code="dose_not_whole_units",
            )
        programme.units_per_dose = int(units)
    step = DoseStep.objects.create(
        clinic=actor.clinic, programme=programme, from_mg=programme.dose_mg, to_mg=new_mg,
        reason=_text(reason, "reason", limit=2000), decided_by=actor.user, decided_at=clock.now(),
    )  # fmt: skip
    programme.dose_mg = new_mg
    programme.save(update_fields=["dose_mg", "units_per_dose"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, object_type="home_programme",
        object_id=programme.pk, patient_id=programme.patient_id,
        detail={"dose_step": [str(step.from_mg), str(step.to_mg)]},
    )  # fmt: skip
    return step
