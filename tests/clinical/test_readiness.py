"""One readiness decision: course start, check-in, dose order and dose given."""

from __future__ import annotations

import dataclasses

import pytest

from ketacare.clinical.clearance import Clearance, Concern
from ketacare.clinical.readiness import (
    CHECK_IN,
    CONSENT_MISSING,
    CONSENT_OUTDATED,
    COURSE_NOT_ACTIVE,
    COURSE_START,
    DOSE_GIVE,
    DOSE_ORDER,
    NO_COURSE,
    NO_SESSION,
    NOT_VERIFIED,
    SAME_PERSON,
    SCREENING_MISSING,
    SCREENING_NEEDS_COSIGNATURE,
    SCREENING_NEEDS_REASON,
    SCREENING_OUT_OF_DATE,
    SCREENING_STATUS_UNKNOWN,
    SCREENING_SUPERSEDED,
    SCREENING_UNSIGNED,
    SCREENING_WRONG_PROTOCOL,
    START_NOT_CLEARED,
    ConsentFacts,
    CourseFacts,
    DoseFacts,
    ReadinessFacts,
    ScreeningFacts,
    assess,
)

SIGNED = ScreeningFacts(
    id=7,
    status="eligible",
    signed=True,
    has_sign_reason=False,
    cosigned=False,
    superseded=False,
    changed_facts=(),
    screened_for_trd=True,
)
CONSENTED = ConsentFacts(signed=True, on_latest_text=True, latest_version=2)
ACTIVE = CourseFacts(id=3, active=True, status_label="Active")
CLEARED = Clearance((), None, None, True, False, "Pre-dose checks are within limits.")
READY = ReadinessFacts(
    protocol_id="iv_induction_6x",
    protocol_title="IV",
    route="iv",
    requires_trd=False,
    screening=SIGNED,
    consent=CONSENTED,
    course=ACTIVE,
    dose=DoseFacts(clearance=CLEARED, order_verified=True, verified_by_other=True),
)


def with_screening(**changes: object) -> ReadinessFacts:
    return dataclasses.replace(READY, screening=dataclasses.replace(SIGNED, **changes))


def test_a_patient_with_everything_in_place_may_do_everything() -> None:
    readiness = assess(READY)
    assert all(readiness.may(a) for a in (COURSE_START, CHECK_IN, DOSE_ORDER, DOSE_GIVE))
    assert readiness.answer(DOSE_GIVE) == "ready"
    assert readiness.why(COURSE_START) == "Ready."
    assert readiness.first(CHECK_IN) is None


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (dataclasses.replace(READY, screening=None), SCREENING_MISSING),
        (with_screening(superseded=True), SCREENING_SUPERSEDED),
        (with_screening(signed=False), SCREENING_UNSIGNED),
        (with_screening(status="needs review"), SCREENING_NEEDS_REASON),
        (with_screening(status="ineligible"), SCREENING_NEEDS_REASON),
        (with_screening(status="ineligible", has_sign_reason=True), SCREENING_NEEDS_COSIGNATURE),
        (with_screening(status="maybe"), SCREENING_STATUS_UNKNOWN),
        (with_screening(changed_facts=("medicines",)), SCREENING_OUT_OF_DATE),
        (
            dataclasses.replace(
                READY,
                requires_trd=True,
                screening=dataclasses.replace(SIGNED, screened_for_trd=False),
            ),
            SCREENING_WRONG_PROTOCOL,
        ),
        (dataclasses.replace(READY, consent=ConsentFacts(False, False)), CONSENT_MISSING),
        (dataclasses.replace(READY, consent=ConsentFacts(True, False, 3)), CONSENT_OUTDATED),
    ],
)
def test_what_holds_treatment_holds_every_activity_alike(facts: ReadinessFacts, code: str) -> None:
    readiness = assess(facts)
    assert {readiness.answer(a) for a in (COURSE_START, CHECK_IN, DOSE_ORDER, DOSE_GIVE)} == {code}
    assert readiness.why(COURSE_START)


def test_an_outdated_consent_names_an_unknown_version_when_none_is_given() -> None:
    readiness = assess(dataclasses.replace(READY, consent=ConsentFacts(True, False)))
    assert "version ?" in readiness.why(CHECK_IN)


def test_signed_short_of_eligible_with_a_reason_allows_treatment() -> None:
    assert assess(with_screening(status="needs review", has_sign_reason=True)).may(CHECK_IN)
    ineligible = with_screening(status="ineligible", has_sign_reason=True, cosigned=True)
    assert assess(ineligible).may(COURSE_START)


def test_a_course_start_needs_no_course_but_check_in_does() -> None:
    readiness = assess(dataclasses.replace(READY, course=None, dose=None))
    assert readiness.may(COURSE_START)
    assert readiness.answer(CHECK_IN) == NO_COURSE
    stopped = CourseFacts(id=3, active=False, status_label="Stopped")
    readiness = assess(dataclasses.replace(READY, course=stopped))
    assert readiness.answer(CHECK_IN) == COURSE_NOT_ACTIVE
    assert "stopped" in readiness.why(CHECK_IN)


def test_a_dose_needs_a_session_a_clearance_and_a_second_clinicians_verification() -> None:
    assert assess(dataclasses.replace(READY, dose=None)).answer(DOSE_ORDER) == NO_SESSION
    held = Clearance((), None, None, False, True, "A prescriber must decide before dosing: x")
    facts = dataclasses.replace(READY, dose=DoseFacts(held, False, False))
    readiness = assess(facts)
    assert readiness.answer(DOSE_ORDER) == START_NOT_CLEARED
    assert "prescriber must decide" in readiness.why(DOSE_ORDER)
    no_check = assess(dataclasses.replace(READY, dose=DoseFacts(None, False, False)))
    assert "pre-dose checks" in no_check.why(DOSE_ORDER)
    held_give = readiness.blockers[DOSE_GIVE]
    assert [b.code for b in held_give] == [NOT_VERIFIED, "start_needs_decision"]
    blocked = Clearance(
        (Concern("bp_blocked", "185/95", True),), None, None, False, False, "Dosing cannot start"
    )
    at_block = assess(dataclasses.replace(READY, dose=DoseFacts(blocked, True, True)))
    assert at_block.answer(DOSE_GIVE) == "start_blocked"
    assert (
        assess(dataclasses.replace(READY, dose=DoseFacts(None, True, True))).answer(DOSE_GIVE)
        == "start_needs_decision"
    )
    unverified = assess(dataclasses.replace(READY, dose=DoseFacts(CLEARED, False, False)))
    assert (unverified.answer(DOSE_ORDER), unverified.answer(DOSE_GIVE)) == (
        "ready",
        NOT_VERIFIED,
    )
    by_orderer = assess(dataclasses.replace(READY, dose=DoseFacts(CLEARED, True, False)))
    assert by_orderer.answer(DOSE_GIVE) == SAME_PERSON


def test_several_blockers_are_all_named_first_one_answers() -> None:
    facts = dataclasses.replace(
        READY,
        screening=dataclasses.replace(SIGNED, signed=False, changed_facts=("age",)),
        consent=ConsentFacts(False, False),
    )
    readiness = assess(facts)
    codes = [b.code for b in readiness.blockers[COURSE_START]]
    assert codes == [SCREENING_UNSIGNED, SCREENING_OUT_OF_DATE, CONSENT_MISSING]
    assert readiness.answer(COURSE_START) == SCREENING_UNSIGNED
    assert assess(facts) == readiness  # same facts, same answer


def test_check_in_asks_readiness_then_the_protocols_schedule() -> None:
    from datetime import date

    from ketacare.clinical.protocols import get_protocol
    from ketacare.clinical.readiness import check_in_verdict

    protocol = get_protocol("iv_induction_6x")
    day = date(2026, 3, 2)
    assert (
        check_in_verdict(protocol, READY, today=day, past_sessions=[], sessions_in_course=None)
        is None
    )
    too_soon = check_in_verdict(
        protocol, READY, today=day, past_sessions=[date(2026, 3, 1)], sessions_in_course=None
    )
    assert too_soon is not None and too_soon.code == "too_soon"
    unsigned = check_in_verdict(
        protocol,
        with_screening(signed=False),
        today=day,
        past_sessions=[date(2026, 3, 1)],
        sessions_in_course=None,
    )
    assert unsigned is not None and unsigned.code == SCREENING_UNSIGNED


def test_the_codes_a_service_refuses_with_are_the_cores() -> None:
    # the services raise the first blocker's code as it is: these strings are the refusals
    assert assess(with_screening(status="maybe")).answer(CHECK_IN) == "screening_status_unknown"
    assert assess(dataclasses.replace(READY, course=None)).answer(CHECK_IN) == "no_course"
    assert assess(dataclasses.replace(READY, dose=None)).answer(DOSE_ORDER) == "no_session"
