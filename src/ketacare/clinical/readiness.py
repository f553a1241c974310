"""One readiness decision: may a course start, the patient check in, a dose be ordered or given.

Every place that decides or shows readiness (course start, check-in, the readiness panel, the
patient page, the session page) asks `assess` over one `ReadinessFacts`, so they cannot disagree.
Missing facts are answered the safe way and named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from ketacare.clinical.clearance import Clearance
from ketacare.clinical.protocols import Protocol, check_session

COURSE_START = "course_start"
CHECK_IN = "check_in"
DOSE_ORDER = "dose_order"
DOSE_GIVE = "dose_give"
ACTIVITIES = (COURSE_START, CHECK_IN, DOSE_ORDER, DOSE_GIVE)

ELIGIBLE = "eligible"
NEEDS_REVIEW = "needs review"  # as the eligibility engine says it
INELIGIBLE = "ineligible"

SCREENING_MISSING = "screening_missing"
SCREENING_SUPERSEDED = "screening_superseded"
SCREENING_UNSIGNED = "screening_unsigned"
SCREENING_NEEDS_REASON = "screening_needs_reason"
SCREENING_NEEDS_COSIGNATURE = "screening_needs_cosignature"
SCREENING_OUT_OF_DATE = "screening_out_of_date"
SCREENING_WRONG_PROTOCOL = "screening_wrong_protocol"
SCREENING_STATUS_UNKNOWN = "screening_status_unknown"
CONSENT_MISSING = "consent_missing"
CONSENT_OUTDATED = "consent_outdated"
NO_COURSE = "no_course"
COURSE_NOT_ACTIVE = "course_not_active"
NO_SESSION = "no_session"
START_NOT_CLEARED = "start_not_cleared"
DOSE_START_BLOCKED = "start_blocked"
DOSE_START_NEEDS_DECISION = "start_needs_decision"
NOT_VERIFIED = "not_verified"
SAME_PERSON = "same_person"


@dataclass(frozen=True)
class ScreeningFacts:
    """The standing screening for the route: its result, signatures, and what changed since."""

    id: int
    status: str
    signed: bool
    has_sign_reason: bool
    cosigned: bool
    superseded: bool
    changed_facts: tuple[str, ...]
    screened_for_trd: bool


@dataclass(frozen=True)
class ConsentFacts:
    """The patient's consent for the route: signed, and on the latest published text."""

    signed: bool
    on_latest_text: bool
    latest_version: int | None = None
    signature_id: int | None = None


@dataclass(frozen=True)
class CourseFacts:
    """The course a check-in belongs to."""

    id: int
    active: bool
    status_label: str


@dataclass(frozen=True)
class DoseFacts:
    """Today's session: its start clearance and the order's verification."""

    clearance: Clearance | None
    order_verified: bool
    verified_by_other: bool


@dataclass(frozen=True)
class ReadinessFacts:
    """Everything readiness reads, gathered by one selector."""

    protocol_id: str
    protocol_title: str
    route: str
    requires_trd: bool
    screening: ScreeningFacts | None
    consent: ConsentFacts
    course: CourseFacts | None = None
    dose: DoseFacts | None = None


@dataclass(frozen=True)
class Blocker:
    """What holds an activity: a code, the field it concerns, and a reason for people."""

    code: str
    field: str
    reason: str


@dataclass(frozen=True)
class Readiness:
    """For each activity, the blockers (none: it may go ahead)."""

    protocol_id: str
    route: str
    blockers: dict[str, tuple[Blocker, ...]]

    def may(self, activity: str) -> bool:
        """Whether the activity may go ahead."""
        return not self.blockers[activity]

    def first(self, activity: str) -> Blocker | None:
        """The first blocker of the activity (what a refusal names), or None."""
        found = self.blockers[activity]
        return found[0] if found else None

    def answer(self, activity: str) -> str:
        """'ready', or the code of the first blocker: the answer every place must agree on."""
        blocker = self.first(activity)
        return "ready" if blocker is None else blocker.code

    def why(self, activity: str) -> str:
        """Every blocker's reason, or that it may go ahead."""
        found = self.blockers[activity]
        return "; ".join(b.reason for b in found) if found else "Ready."


def screening_blockers(
    screening: ScreeningFacts | None, *, route: str, requires_trd: bool = False
) -> tuple[Blocker, ...]:
    """What holds treatment on this screening: missing, unsigned, short of eligible without a
    reason (and a co-signature when ineligible), out of date, or not run for a TRD protocol."""
    if screening is None:
        return (
            Blocker(
                SCREENING_MISSING,
                "screening",
                f"There is no screening for the {route} route; run one and have it signed.",
            ),
        )
    found = []
    number = f"Screening {screening.id}"
    if screening.superseded:
        found.append(
            Blocker(SCREENING_SUPERSEDED, "screening", f"{number} was superseded by a newer one.")
        )
    if not screening.signed:
        found.append(
            Blocker(
                SCREENING_UNSIGNED, "screening", f"{number} is not signed; a prescriber signs it."
            )
        )
    elif screening.status not in (ELIGIBLE, NEEDS_REVIEW, INELIGIBLE):
        found.append(
            Blocker(
                SCREENING_STATUS_UNKNOWN,
                "screening",
                f"{number} has a result no rule knows ({screening.status!r}); screen again.",
            )
        )
    elif screening.status != ELIGIBLE and not screening.has_sign_reason:
        found.append(
            Blocker(
                SCREENING_NEEDS_REASON,
                "screening",
                f"{number} is {screening.status}: going ahead needs the signer's written reason.",
            )
        )
    elif screening.status == INELIGIBLE and not screening.cosigned:
        found.append(
            Blocker(
                SCREENING_NEEDS_COSIGNATURE,
                "screening",
                f"{number} is ineligible: going ahead needs the signer's reason and a second "
                "prescriber's co-signature.",
            )
        )
    if screening.changed_facts:
        found.append(
            Blocker(
                SCREENING_OUT_OF_DATE,
                "screening",
                f"{number} is out of date: {', '.join(screening.changed_facts)} changed in the "
                "chart since it ran. Run the screening again and sign it.",
            )
        )
    if requires_trd and not screening.screened_for_trd:
        found.append(
            Blocker(
                SCREENING_WRONG_PROTOCOL,
                "screening",
                f"This protocol needs a screening that checked treatment-resistant depression; "
                f"{number.lower()} was not run for such a protocol.",
            )
        )
    return tuple(found)


def consent_blockers(consent: ConsentFacts, *, route: str) -> tuple[Blocker, ...]:
    """What holds treatment on consent: none signed for the route, or not the current text."""
    if not consent.signed:
        return (
            Blocker(
                CONSENT_MISSING, "consent", f"There is no signed consent for the {route} route."
            ),
        )
    if not consent.on_latest_text:
        version = consent.latest_version if consent.latest_version is not None else "?"
        return (
            Blocker(
                CONSENT_OUTDATED,
                "consent",
                f"The consent signed is not the current text (version {version} was published "
                "since); re-consent first.",
            ),
        )
    return ()


def assess(facts: ReadinessFacts) -> Readiness:
    """Whether a course may start, the patient check in, a dose be ordered and given, and why not.

    Each activity needs what the one before it needs: treatment (screening and consent) for a
    course; an active course for check-in; start clearance for an order; a verification by a
    second clinician, and start clearance still in force, to give it.
    """
    treatment = screening_blockers(
        facts.screening, route=facts.route, requires_trd=facts.requires_trd
    ) + consent_blockers(facts.consent, route=facts.route)
    course: tuple[Blocker, ...]
    if facts.course is None:
        course = (Blocker(NO_COURSE, "course_id", "There is no course to check in to."),)
    elif not facts.course.active:
        course = (
            Blocker(
                COURSE_NOT_ACTIVE,
                "course_id",
                f"The course is {facts.course.status_label.lower()}.",
            ),
        )
    else:
        course = ()
    check_in = treatment + course
    order: tuple[Blocker, ...]
    give: tuple[Blocker, ...]
    dose = facts.dose
    if dose is None:
        order = give = (Blocker(NO_SESSION, "session", "The patient is not checked in."),)
    else:
        clearance = dose.clearance
        if clearance is None or not clearance.may_start:
            order = (
                Blocker(
                    START_NOT_CLEARED,
                    "status",
                    clearance.reason if clearance else "Record the pre-dose checks first.",
                ),
            )
        else:
            order = ()
        if not dose.order_verified:
            give = (
                Blocker(
                    NOT_VERIFIED,
                    "status",
                    "The dose has not been verified by a second clinician.",
                ),
            )
        elif not dose.verified_by_other:
            give = (
                Blocker(
                    SAME_PERSON, "status", "The dose was verified by the person who ordered it."
                ),
            )
        else:
            give = ()
        if clearance is not None and clearance.blocking:
            give += (Blocker(DOSE_START_BLOCKED, "status", clearance.reason),)
        elif clearance is None or not clearance.may_start:
            give += (
                Blocker(
                    DOSE_START_NEEDS_DECISION,
                    "status",
                    clearance.reason if clearance else "Record the pre-dose checks first.",
                ),
            )
    return Readiness(
        protocol_id=facts.protocol_id,
        route=facts.route,
        blockers={
            COURSE_START: treatment,
            CHECK_IN: check_in,
            DOSE_ORDER: check_in + order,
            DOSE_GIVE: check_in + give,
        },
    )


def check_in_verdict(
    protocol: Protocol,
    facts: ReadinessFacts,
    *,
    today: date,
    past_sessions: Sequence[date],
    sessions_in_course: int | None,
) -> Blocker | None:
    """Whether the patient may check in today: readiness to check in, then the protocol's
    schedule (too soon, too many in a course week, course complete). None: check in."""
    readiness = assess(facts)
    blocker = readiness.first(CHECK_IN)
    if blocker is not None:
        return blocker
    verdict = check_session(protocol, today, past_sessions, sessions_in_course=sessions_in_course)
    if not verdict.allowed:
        return Blocker(verdict.code, "course_id", verdict.reason)
    return None
