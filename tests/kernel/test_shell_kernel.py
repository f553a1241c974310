"""The kernel's one clock, one version check, one idempotency helper and coloured choices."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from ketacare.errors import Conflict, Refused
from ketacare.kernel import clock
from ketacare.kernel.choices import ColouredChoices, colour_of
from ketacare.kernel.clinic_time import clinic_today
from ketacare.kernel.idempotency import ensure_key, replayed
from ketacare.kernel.versions import ensure_version, stale_version
from ketacare.scheduling.models import AppointmentStatus
from tests.consent.factories import ConsentSignatureFactory


def test_moving_the_clinic_clock_moves_it_for_every_app(session_clock):
    # given the clock two hours on
    before = clock.now()
    session_clock.travel(timedelta(hours=2))
    # then what any app reads is two hours on, and a time stamped an hour from now is in the past
    assert clock.now() - before >= timedelta(hours=2)
    assert not clock.is_future(before + timedelta(hours=1))


def test_the_wall_clock_is_not_moved_with_the_clinic_clock(session_clock):
    # given the clinic clock a day on
    session_clock.travel(timedelta(days=1))
    # then security and audit times still read the server's real time
    assert clock.now() - clock.wall_now() >= timedelta(hours=23)


def test_the_clinic_day_follows_the_clinic_clock_in_the_clinics_zone(session_clock):
    # given a moment that is still the evening before in Los Angeles
    late = datetime(2026, 3, 10, 5, 30, tzinfo=UTC)
    with clock.frozen_at(late):
        # then the clinic's today is its own local day
        assert clinic_today(SimpleNamespace(time_zone="America/Los_Angeles")) == date(2026, 3, 9)
        assert clinic_today(SimpleNamespace(time_zone="Europe/Berlin")) == date(2026, 3, 10)


def test_a_time_within_the_clock_skew_is_accepted_and_beyond_it_refused():
    assert not clock.is_future(clock.now() + clock.CLOCK_SKEW - timedelta(seconds=5))
    with pytest.raises(Refused) as refused:
        clock.ensure_not_future(
            clock.now() + clock.CLOCK_SKEW + timedelta(seconds=5),
            field="taken_at",
            message="in the future",
            code="future_time",
        )
    assert (refused.value.field, refused.value.code) == ("taken_at", "future_time")


def test_a_stale_version_is_a_conflict_naming_version():
    ensure_version("session", seen=3, current=3)
    with pytest.raises(Conflict) as stale:
        ensure_version("session", seen=2, current=3)
    assert (stale.value.field, stale.value.code, stale.value.status_code) == (
        "version",
        "stale_version",
        409,
    )
    with pytest.raises(Conflict):
        ensure_version("session", seen=None, current=3)
    named = stale_version("recovery plan", seen=1, current=2, field="based_on")
    assert (named.field, named.code) == ("based_on", "stale_version")


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space in it", None])
def test_a_missing_or_malformed_idempotency_key_is_refused(key):
    with pytest.raises(Refused) as refused:
        ensure_key(key)
    assert refused.value.field == "idempotency_key"


def test_a_key_reused_for_another_patient_is_a_conflict_and_the_same_one_replays(world):
    # given a consent signature recorded with a key
    signature = ConsentSignatureFactory(patient=world.patient_a, idempotency_key="sign-0001-a")
    model = type(signature)
    key = signature.idempotency_key
    # when the same submission comes again, it replays
    assert replayed(model, clinic_id=signature.clinic_id, key=key, same=lambda r: True) == signature
    # when the key comes with another patient, it is refused
    with pytest.raises(Conflict) as reused:
        replayed(model, clinic_id=signature.clinic_id, key=key, same=lambda r: False)
    assert (reused.value.field, reused.value.code) == ("idempotency_key", "idempotency_key_reused")
    # an empty key never replays
    assert replayed(model, clinic_id=signature.clinic_id, key="", same=lambda r: True) is None


def test_status_colours_come_from_the_choices_enum():
    assert colour_of("AppointmentStatus", AppointmentStatus.COMPLETED) == "ok"
    assert colour_of("AppointmentStatus", "no_show") == "danger"
    assert colour_of("AppointmentStatus", "booked") == ""
    with pytest.raises(LookupError):
        colour_of("NoSuchStatus", "x")


def test_two_coloured_choice_enums_may_not_share_a_name():
    with pytest.raises(TypeError):

        class AppointmentStatus(ColouredChoices):  # noqa: F811
            X = "x", "X"
