"""Pausing, resuming and ending an at-home programme: any clinician may pause, only the
prescriber resumes or ends; a paused programme releases no dose; the history is kept."""

from __future__ import annotations

import pytest

from ketacare.accounts.access import PermissionDenied
from ketacare.athome import services
from ketacare.athome.models import ProgrammeStatusChange
from ketacare.errors import KetaCareError
from tests.athome.conftest import actor, enrol

pytestmark = pytest.mark.django_db


def _change(world, programme, to, role="nurse", seen=None, reason="Lost two troches"):
    return services.programme_status_change(
        actor=actor(world, role), programme_id=programme.pk, to_status=to, reason=reason,
        seen_status=seen or programme.status,
    )  # fmt: skip


def _refused(call):
    with pytest.raises(KetaCareError) as caught:
        call()
    return caught.value


def test_a_nurse_pauses_and_the_patients_next_dose_is_held(world, home):
    paused = _change(world, home.programme, "paused")
    assert paused.status == "paused"
    error = _refused(lambda: services.home_dose_open(link=home.patient_link))
    assert error.code == "programme_not_active"
    # the prescriber resumes, and the dose can be opened again
    _change(world, paused, "active", role="prescriber", reason="Reviewed with the patient")
    assert services.home_dose_open(link=home.patient_link).number == 1
    history = list(ProgrammeStatusChange.objects.values_list("from_status", "to_status"))
    assert history == [("active", "paused"), ("paused", "active")]


def test_only_the_prescriber_resumes_or_ends(world):
    programme = enrol(world)
    paused = _change(world, programme, "paused")
    with pytest.raises(PermissionDenied):
        _change(world, paused, "active", role="nurse")
    with pytest.raises(PermissionDenied):
        _change(world, paused, "ended", role="nurse")
    assert _change(world, paused, "ended", role="prescriber").status == "ended"


def test_an_ended_programme_cannot_be_resumed(world):
    programme = enrol(world)
    ended = _change(world, programme, "ended", role="prescriber")
    error = _refused(lambda: _change(world, ended, "active", role="prescriber"))
    assert error.code == "transition_not_allowed"


def test_a_change_needs_a_reason_and_a_known_status(world):
    programme = enrol(world)
    assert _refused(lambda: _change(world, programme, "paused", reason=" ")).code == "required"
    assert _refused(lambda: _change(world, programme, "asleep")).code == "invalid"
    assert not ProgrammeStatusChange.objects.exists()


def test_a_change_decided_on_a_stale_page_is_refused(world):
    programme = enrol(world)
    _change(world, programme, "paused")
    # a second nurse, whose page still shows "active", also pauses
    error = _refused(lambda: _change(world, programme, "paused", seen="active"))
    assert error.code == "stale_version" and error.status_code == 409
    assert ProgrammeStatusChange.objects.count() == 1


def test_another_clinic_cannot_pause_the_programme(world):
    programme = enrol(world)
    error = _refused(
        lambda: services.programme_status_change(
            actor=actor(world, "nurse", world.clinic_b),
            programme_id=programme.pk,
            to_status="paused",
            reason="x",
            seen_status="active",
        )  # fmt: skip
    )
    assert error.code == "not_found"


def test_the_programme_page_pauses_with_a_reason(world):
    programme = enrol(world)
    client = world.web(world.staff["nurse"])
    page = client.get(f"/athome/programmes/{programme.pk}/").content.decode()
    assert 'data-testid="pause"' in page and 'data-testid="resume"' not in page
    client.post(
        f"/athome/programmes/{programme.pk}/status/",
        {
            "to_status": "paused",
            "reason": "Red flag: use outside the plan",
            "seen_status": "active",
        },
    )
    page = client.get(f"/athome/programmes/{programme.pk}/").content.decode()
    assert "Programme status: Paused" in page and "use outside the plan" in page
