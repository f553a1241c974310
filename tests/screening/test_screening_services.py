"""Screening: run the engine on the chart, sign, co-sign, and go stale when a used fact changes."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.audit.models import AuditEntry
from ketacare.clinical.errors import InvalidInput
from ketacare.errors import Conflict, Refused
from ketacare.patients import services as patient_services
from ketacare.screening.models import Screening, ScreeningStatus
from ketacare.screening.selectors import (
    screening_allows_treatment,
    screening_current_for,
    screening_out_of_date,
)
from ketacare.screening.services import screening_cosign, screening_run, screening_sign
from tests.factories import member
from tests.patients.factories import chart_for, complete_chart

pytestmark = pytest.mark.django_db


def _actor(world, role):
    # stamped as re-authenticated, as a signing request with the password is
    return Actor(
        user=world.staff[role],
        clinic=world.clinic_a,
        role=Role(role),
        reauthenticated_at=timezone.now(),
    )


def _second_prescriber(world):
    if "prescriber2" not in world.staff:
        world.staff["prescriber2"] = member(world.clinic_a, Role.PRESCRIBER, "a.prescriber2")
    return Actor(
        user=world.staff["prescriber2"],
        clinic=world.clinic_a,
        role=Role.PRESCRIBER,
        reauthenticated_at=timezone.now(),
    )


def _run(world, protocol_id="iv_induction_6x"):
    return screening_run(
        actor=_actor(world, "nurse"), patient=world.patient_a, protocol_id=protocol_id
    )


def _ineligible_chart(world):
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        medical_history={"conditions": ["intracerebral_haemorrhage"]},
    )


def test_a_complete_chart_screens_eligible_and_a_prescriber_signs_without_a_reason(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = _run(world)
    assert screening.status == ScreeningStatus.ELIGIBLE
    assert screening.protocol_version and screening.route == "iv"
    assert "systolic_mmhg" in screening.facts_used
    assert not screening_allows_treatment(screening)  # not until signed
    signed = screening_sign(actor=_actor(world, "prescriber"), screening=screening)
    assert signed.signed_by == world.staff["prescriber"]
    assert screening_allows_treatment(signed)
    assert screening_out_of_date(signed) == []
    assert AuditEntry.objects.filter(object_type="screening", action="sign").count() == 1


def test_an_empty_chart_needs_review_and_names_the_missing_facts(world):
    screening = _run(world)
    assert screening.status == ScreeningStatus.NEEDS_REVIEW
    assert {"systolic_mmhg", "medicines", "diagnoses"} <= set(screening.result["missing_facts"])


def test_every_fired_rule_is_kept_with_its_reason_and_source(world):
    complete_chart(
        world.patient_a,
        world.staff["nurse"],
        medicines={"items": [{"generic_name": "lorazepam"}, {"generic_name": "theophylline"}]},
    )
    screening = _run(world)
    fired = {rule["rule_id"]: rule for rule in screening.result["fired"]}
    assert screening.status == ScreeningStatus.INELIGIBLE
    assert fired["theophylline_aminophylline"]["severity"] == "exclude"
    assert fired["benzodiazepines"]["severity"] == "caution"
    assert "KETALAR" in fired["theophylline_aminophylline"]["citation"]
    assert fired["benzodiazepines"]["reason"]


def test_needs_review_goes_forward_only_with_a_documented_reason(world):
    screening = _run(world)
    with pytest.raises(Refused) as refused:
        screening_sign(actor=_actor(world, "prescriber"), screening=screening, reason="ok")
    assert refused.value.field == "reason"
    signed = screening_sign(
        actor=_actor(world, "prescriber"),
        screening=screening,
        reason="Blood pressure to be taken on the day; history reviewed by phone.",
    )
    assert screening_allows_treatment(signed)


def test_an_ineligible_screening_without_the_cosignature_cannot_go_forward(world):
    # given an exclusion in the chart, and a prescriber who signs it with a reason
    _ineligible_chart(world)
    screening = _run(world)
    assert screening.status == ScreeningStatus.INELIGIBLE
    signed = screening_sign(
        actor=_actor(world, "prescriber"),
        screening=screening,
        reason="Haemorrhage 20 years ago, neurology cleared; benefits outweigh the risk.",
    )
    # then it still does not allow treatment
    assert signed.cosigned_by is None
    assert not screening_allows_treatment(signed)
    assert screening_current_for(patient=world.patient_a, route="iv") == signed
    # until a second, different prescriber co-signs
    cosigned = screening_cosign(actor=_second_prescriber(world), screening=signed, note="Agree.")
    assert screening_allows_treatment(cosigned)


def test_an_ineligible_screening_cannot_be_signed_without_a_reason(world):
    _ineligible_chart(world)
    screening = _run(world)
    with pytest.raises(Refused):
        screening_sign(actor=_actor(world, "prescriber"), screening=screening)
    screening.refresh_from_db()
    assert screening.signed_by is None


def test_the_signer_cannot_cosign_their_own_ineligible_screening(world):
    _ineligible_chart(world)
    screening = screening_sign(
        actor=_actor(world, "prescriber"),
        screening=_run(world),
        reason="Reviewed with neurology; benefits outweigh the risk.",
    )
    with pytest.raises(Refused) as refused:
        screening_cosign(actor=_actor(world, "prescriber"), screening=screening)
    assert refused.value.code == "cosigner_is_signer"
    # and the database refuses it too, whatever the code path
    with pytest.raises(IntegrityError), transaction.atomic():
        Screening.objects.filter(pk=screening.pk).update(cosigned_by=world.staff["prescriber"])


def test_cosigning_needs_a_signed_ineligible_screening(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    eligible = _run(world)
    with pytest.raises(Refused):
        screening_cosign(actor=_second_prescriber(world), screening=eligible)
    _ineligible_chart(world)
    unsigned = _run(world)
    with pytest.raises(Refused) as refused:
        screening_cosign(actor=_second_prescriber(world), screening=unsigned)
    assert refused.value.code == "screening_unsigned"


def test_only_a_prescriber_signs_and_a_nurse_runs(world):
    screening = _run(world)
    with pytest.raises(PermissionDenied):
        screening_sign(actor=_actor(world, "nurse"), screening=screening, reason="x" * 20)
    with pytest.raises(PermissionDenied):
        screening_run(
            actor=_actor(world, "front_desk"), patient=world.patient_a, protocol_id="iv_booster"
        )


def test_an_unknown_protocol_is_refused_naming_the_field(world):
    with pytest.raises(InvalidInput) as refused:
        _run(world, protocol_id="iv_forever")
    assert refused.value.field == "protocol_id"


def test_changing_a_fact_the_rules_used_marks_the_signed_screening_out_of_date(world):
    # given a signed, eligible screening
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    # when the nurse records a new medicine
    patient_services.chart_section_save(
        actor=_actor(world, "nurse"),
        patient_id=world.patient_a.pk,
        section="medicines",
        version=1,
        data={"items": [{"generic_name": "sertraline"}, {"generic_name": "diazepam"}]},
    )
    # then the screening names the fact that changed
    assert screening_out_of_date(screening) == ["medicines"]


def test_changing_a_fact_no_rule_used_leaves_the_screening_current(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    patient_services.chart_section_save(
        actor=_actor(world, "nurse"),
        patient_id=world.patient_a.pk,
        section="contact",
        version=1,
        data={"emergency_contact_name": "Someone Else", "emergency_contact_phone": "555-0199"},
    )
    assert screening_out_of_date(screening) == []


def test_a_new_allergy_makes_the_screening_out_of_date(world):
    # an allergy may be a hypersensitivity (or not be understood): the screening must run again
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    chart_for(
        world.patient_a, world.staff["nurse"], {"allergies": {"items": [{"substance": "latex"}]}}
    )
    assert screening_out_of_date(screening) == ["allergies"]


def test_an_out_of_date_screening_cannot_be_signed(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = _run(world)
    chart_for(
        world.patient_a,
        world.staff["nurse"],
        {"pregnancy": {"pregnant": True, "breastfeeding": False}},
    )
    with pytest.raises(Refused) as refused:
        screening_sign(actor=_actor(world, "prescriber"), screening=screening)
    assert refused.value.code == "screening_out_of_date"
    assert "pregnant" in refused.value.message


def test_a_new_run_supersedes_the_earlier_unsigned_one(world):
    first = _run(world)
    second = _run(world)
    first.refresh_from_db()
    assert first.superseded_at is not None and second.superseded_at is None
    assert screening_current_for(patient=world.patient_a, route="iv") == second
    with pytest.raises(Conflict):
        screening_sign(actor=_actor(world, "prescriber"), screening=first, reason="x" * 20)


def test_signing_a_new_screening_supersedes_the_older_signed_one_for_the_route(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    old = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    new = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    old.refresh_from_db()
    assert old.superseded_at is not None
    assert not screening_allows_treatment(old)
    assert screening_current_for(patient=world.patient_a, route="iv") == new


def test_screenings_of_other_routes_stand_alone(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    iv = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    esk = _run(world, "esketamine_trd")
    assert esk.route == "esketamine"
    assert screening_current_for(patient=world.patient_a, route="iv") == iv


def test_signing_twice_or_from_a_stale_version_is_a_conflict(world):
    complete_chart(world.patient_a, world.staff["nurse"])
    screening = _run(world)
    with pytest.raises(Conflict) as stale:
        screening_sign(actor=_actor(world, "prescriber"), screening=screening, version=99)
    assert stale.value.field == "version"
    screening_sign(actor=_actor(world, "prescriber"), screening=screening, version=1)
    with pytest.raises(Conflict):
        screening_sign(actor=_second_prescriber(world), screening=screening)
