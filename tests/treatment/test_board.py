"""The chair board's exceptions: the session's own attention list, decided once by the core.

An overrunning infusion, an overdue reading and an unanswered alarm read the same on the board's
exceptions, each clinician's start-page list, Today's sessions and the session page.
"""

from datetime import timedelta
from typing import Any

from ketacare.accounts.roles import Role
from ketacare.treatment.board import board_for_clinic
from ketacare.treatment.selectors import session_record
from tests.factories import PatientFactory
from tests.treatment.factories import Team, check_in, reading, walk_to


def _infusing(world: Any, team: Team) -> Any:
    patient = PatientFactory(clinic=world.clinic_a)
    session = walk_to(team, check_in(team, patient, world.staff), "dosing")
    reading(team, session, systolic=128, diastolic=80, heart_rate=74, spo2=98)
    return session


def test_an_overrunning_infusion_is_on_the_board_exceptions_and_the_nurses_list(
    world: Any, team: Team, session_clock: Any
) -> None:
    # given an infusion planned for 40 minutes, running
    session = _infusing(world, team)
    # when 70 minutes pass with nobody ending it or recording a reading
    session_clock.travel(timedelta(minutes=70))
    board = board_for_clinic(actor=team.nurse)
    # then the board lists the overrun and the overdue reading, the overrun before the reading
    kinds = [e.kind for _, e in board.exceptions]
    assert "overrun" in kinds
    assert "overdue" in kinds
    assert kinds.index("overrun") < kinds.index("overdue")
    overrun = next(e for _, e in board.exceptions if e.kind == "overrun")
    assert overrun.message.startswith("Infusion overrunning")
    # and the nurse's and the prescriber's start-page lists carry it
    assert any(e.kind == "overrun" for _, e in board.for_role(Role.NURSE))
    assert any(e.kind == "overrun" for _, e in board.for_role(Role.PRESCRIBER))
    # and the tile is past the plan because the core says so
    tile = next(t for room in board.rooms for t in room.tiles if t.session == session)
    assert tile.over_plan


def test_the_board_says_what_the_session_page_says(
    world: Any, team: Team, session_clock: Any
) -> None:
    # given an overrunning infusion
    session = _infusing(world, team)
    session_clock.travel(timedelta(minutes=70))
    # when the board and the session page are read at the same moment
    board = board_for_clinic(actor=team.nurse)
    record = session_record(actor=team.nurse, session_id=session.pk)
    # then the board's exceptions are the session's attention list (one decision), in the
    # board's order of urgency
    on_board = [(e.kind, e.message) for t, e in board.exceptions if t.session == session]
    assert sorted(on_board) == sorted((a.kind, a.message) for a in record.attention)
    assert {kind for kind, _ in on_board} == {"overrun", "overdue"}


def test_an_infusion_within_its_plan_is_not_an_exception(
    world: Any, team: Team, session_clock: Any
) -> None:
    # given an infusion 10 minutes into its 40-minute plan, with its reading recorded
    session = _infusing(world, team)
    session_clock.travel(timedelta(minutes=10))
    reading(team, session, systolic=126, diastolic=80, heart_rate=72, spo2=98)
    # when the board is read
    board = board_for_clinic(actor=team.nurse)
    # then nothing is raised and the tile is within its plan
    assert [e for t, e in board.exceptions if t.session == session] == []
    tile = next(t for room in board.rooms for t in room.tiles if t.session == session)
    assert not tile.over_plan


def test_a_session_still_live_after_midnight_stays_on_todays_list(
    world: Any, team: Team, session_clock: Any
) -> None:
    from ketacare.kernel import clock
    from ketacare.scheduling.selectors import clinic_zone
    from ketacare.treatment.selectors import sessions_for_day

    # given an infusion that nobody ended, and a day later
    session = _infusing(world, team)
    zone = clinic_zone(world.clinic_a)
    checked_in_day = session.checked_in_at.astimezone(zone).date()
    session_clock.travel(timedelta(days=1))
    today = clock.now().astimezone(zone).date()
    assert today > checked_in_day
    # when Today's sessions is read, the open session is there with what it waits for
    rows = sessions_for_day(actor=team.nurse, day=today)
    row = next(r for r in rows if r.session == session)
    assert row.appointment == session.appointment
    assert "overrun" in {a.kind for a in row.attention}
    # and the day it began still lists it once, as it does every session of that day
    earlier = sessions_for_day(actor=team.nurse, day=checked_in_day)
    assert [r.session for r in earlier].count(session) == 1


def test_a_discharged_session_of_an_earlier_day_is_not_on_todays_list(
    world: Any, team: Team, session_clock: Any
) -> None:
    from ketacare.kernel import clock
    from ketacare.scheduling.selectors import clinic_zone
    from ketacare.treatment.models import SessionStatus, TreatmentSession
    from ketacare.treatment.selectors import sessions_for_day

    # given a session of an earlier day that has been closed (the selector reads only status)
    session = _infusing(world, team)
    TreatmentSession.objects.filter(pk=session.pk).update(status=SessionStatus.DISCHARGED)
    session_clock.travel(timedelta(days=1))
    today = clock.now().astimezone(zone := clinic_zone(world.clinic_a)).date()
    assert session.checked_in_at.astimezone(zone).date() < today
    assert all(r.session != session for r in sessions_for_day(actor=team.nurse, day=today))
