"""A questionnaire response entered in error stays listed with its reason and stops counting."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ketacare.accounts.access import Actor
from ketacare.accounts.roles import Role
from ketacare.errors import Conflict, Refused
from ketacare.followup.selectors import patient_outcomes
from ketacare.outcomes.services import scale_response_enter_in_error
from tests.outcomes.factories import phq9_answers, response_row

pytestmark = pytest.mark.django_db


def _nurse(world):
    return Actor(user=world.staff["nurse"], clinic=world.clinic_a, role=Role.NURSE)


def test_a_response_entered_in_error_leaves_the_trajectory_and_stays_listed(world):
    # given two PHQ-9s, the second typed into the wrong chart
    now = timezone.now()
    response_row(world.patient_a, "phq9", phq9_answers(20), now - timedelta(days=14))
    wrong = response_row(world.patient_a, "phq9", phq9_answers(4), now - timedelta(days=1))
    # when it is marked entered in error
    scale_response_enter_in_error(
        actor=_nurse(world), response_id=wrong.pk, reason="Another patient's answers"
    )
    # then the trajectory no longer counts it (no false remission) and the panel lists it
    data = patient_outcomes(actor=_nurse(world), patient_id=world.patient_a.pk)
    (phq9,) = [t for t in data.trajectories if t.instrument.id == "phq9"]
    assert [r.pk for r in phq9.responses] != [] and wrong.pk not in [r.pk for r in phq9.responses]
    assert [r.pk for r in data.entered_in_error] == [wrong.pk]
    wrong.refresh_from_db()
    assert wrong.total == 4 and wrong.entered_in_error_reason == "Another patient's answers"


def test_a_response_entered_in_error_needs_a_reason_and_is_marked_once(world):
    response = response_row(world.patient_a, "phq9", phq9_answers(8), timezone.now())
    with pytest.raises(Refused):
        scale_response_enter_in_error(actor=_nurse(world), response_id=response.pk, reason="")
    scale_response_enter_in_error(actor=_nurse(world), response_id=response.pk, reason="Mistyped")
    with pytest.raises(Conflict):
        scale_response_enter_in_error(
            actor=_nurse(world), response_id=response.pk, reason="Mistyped again"
        )


def test_the_page_action_marks_it_and_another_clinic_cannot(world):
    response = response_row(world.patient_a, "phq9", phq9_answers(8), timezone.now())
    outsider = world.web(world.outsiders["nurse"]).post(
        f"/outcomes/responses/{response.pk}/entered-in-error/", {"reason": "sneaky one"}
    )
    assert outsider.status_code == 404
    done = world.web(world.staff["nurse"]).post(
        f"/outcomes/responses/{response.pk}/entered-in-error/", {"reason": "Wrong chart"}
    )
    assert done.status_code == 302
    response.refresh_from_db()
    assert response.entered_in_error_at is not None
