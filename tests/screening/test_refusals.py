"""Screening refusals each triggered and asserted by code (every code a service can raise)."""

import pytest
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Conflict, Refused
from ketacare.screening.models import ScreeningStatus
from ketacare.screening.services import screening_cosign, screening_run, screening_sign
from tests.factories import member
from tests.patients.factories import complete_chart

pytestmark = pytest.mark.django_db

REASON = "Reviewed with neurology; benefits judged to outweigh the risk."


def _actor(world, role):
    # stamped as re-authenticated, as a signing request with the password is
    return Actor(
        user=world.staff[role],
        clinic=world.clinic_a,
        role=Role(role),
        reauthenticated_at=timezone.now(),
    )


def _second(world):
    user = member(world.clinic_a, Role.PRESCRIBER, "a.prescriber.second")
    return Actor(
        user=user, clinic=world.clinic_a, role=Role.PRESCRIBER, reauthenticated_at=timezone.now()
    )


def _run(world, **sections):
    complete_chart(world.patient_a, world.staff["nurse"], **sections)
    return screening_run(
        actor=_actor(world, "nurse"), patient=world.patient_a, protocol_id="iv_induction_6x"
    )


def _ineligible(world):
    return _run(world, medical_history={"conditions": ["intracerebral_haemorrhage"]})


def test_signing_short_of_eligible_without_a_reason_is_refused_reason_required(world):
    screening = _run(world, medicines={"items": [{"generic_name": "gabapentin"}]})
    assert screening.status == ScreeningStatus.NEEDS_REVIEW
    with pytest.raises(Refused) as refused:
        screening_sign(actor=_actor(world, "prescriber"), screening=screening, reason="ok")
    assert (refused.value.code, refused.value.field) == ("reason_required", "reason")


def test_signing_a_signed_screening_again_is_screening_already_signed(world):
    screening = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    with pytest.raises(Conflict) as conflict:
        screening_sign(actor=_actor(world, "prescriber"), screening=screening)
    assert conflict.value.code == "screening_already_signed"


def test_signing_a_superseded_screening_is_screening_superseded(world):
    first = _run(world)
    screening_run(
        actor=_actor(world, "nurse"), patient=world.patient_a, protocol_id="iv_induction_6x"
    )
    with pytest.raises(Conflict) as conflict:
        screening_sign(actor=_actor(world, "prescriber"), screening=first)
    assert conflict.value.code == "screening_superseded"


def test_cosigning_a_screening_that_is_not_ineligible_is_cosign_not_needed(world):
    screening = screening_sign(actor=_actor(world, "prescriber"), screening=_run(world))
    with pytest.raises(Refused) as refused:
        screening_cosign(actor=_second(world), screening=screening)
    assert (refused.value.code, refused.value.field) == ("cosign_not_needed", "screening")


def test_cosigning_twice_is_screening_already_cosigned(world):
    signed = screening_sign(
        actor=_actor(world, "prescriber"), screening=_ineligible(world), reason=REASON
    )
    second = _second(world)
    cosigned = screening_cosign(actor=second, screening=signed, note="Agree.")
    with pytest.raises(Conflict) as conflict:
        screening_cosign(actor=second, screening=cosigned)
    assert conflict.value.code == "screening_already_cosigned"
