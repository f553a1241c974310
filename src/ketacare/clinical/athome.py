"""The at-home programme's closed safety loop: the gate before each dose, the tracker after it,
the release of the next dose, the refill gate and the prescriber's dose steps.

Every number is a clinic policy default from data/athome.toml (reference §7: provider practice,
not regulation). Each check returns `Blocker`s (empty: go ahead); a fact that is missing or
unknown refuses, so the loop fails closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.plausibility import check_vital_signs
from ketacare.clinical.protocols import FixedStepDose
from ketacare.clinical.readiness import ELIGIBLE, Blocker, ScreeningFacts, screening_blockers

ATHOME_FILE = "athome.toml"
ITEM_KINDS = {"severity": (0, 3), "mood": (-2, 2), "yes_no": (0, 1)}
URGENCIES = ("immediate", "same_day", "review")

# enrolment
HOME_SCREENING_NOT_ELIGIBLE = "home_screening_not_eligible"
# the gate before a dose
HOME_SITTER_NOT_ATTESTED = "home_sitter_not_attested"
HOME_VITALS_MISSING = "home_vitals_missing"
HOME_VITALS_IMPLAUSIBLE = "home_vitals_implausible"
HOME_BP_ABOVE_LIMIT = "home_bp_above_limit"
HOME_HEART_RATE_ABOVE_LIMIT = "home_heart_rate_above_limit"
HOME_CHECK_UNANSWERED = "home_check_unanswered"
HOME_NOT_FASTING = "home_not_fasting"
HOME_ALCOHOL_OR_SUBSTANCES = "home_alcohol_or_substances"
HOME_PLACE_NOT_SAFE = "home_place_not_safe"
# the release of the next dose
HOME_TRACKER_MISSING = "home_tracker_missing"
HOME_RED_FLAG_OPEN = "home_red_flag_open"
HOME_TOO_SOON = "home_too_soon"
HOME_PLAN_COMPLETE = "home_plan_complete"
HOME_SUPPLY_SHORT = "home_supply_short"
# refills
REFILL_TOO_FEW_DOSES = "refill_too_few_doses"
REFILL_REVIEW_MISSING = "refill_review_missing"
REFILL_COUNT_MISSING = "refill_count_missing"
REFILL_UNRECONCILED = "refill_unreconciled"
REFILL_NONE_AUTHORISED = "refill_none_authorised"
# dose steps
STEP_OUT_OF_RANGE = "step_out_of_range"
STEP_TOO_LARGE = "step_too_large"
STEP_NOT_ON_STEP = "step_not_on_step"


@dataclass(frozen=True)
class GateRule:
    """The gate's limits: the sitter, and home BP and heart rate not above these."""

    sitter_required: bool
    max_systolic: int
    max_diastolic: int
    max_heart_rate: int
    citation: Citation


@dataclass(frozen=True)
class EnrolmentRule:
    """What the screening must say before a patient may join the programme."""

    screening_must_be_eligible: bool
    citation: Citation


@dataclass(frozen=True)
class SitterCheckinRule:
    """How often the sitter checks in during a home session, and the alert a worry opens."""

    interval_minutes: int
    concern_code: str
    concern_urgency: str
    citation: Citation


@dataclass(frozen=True)
class TrackerItem:
    """One question of the tracker and its answer scale."""

    id: str
    label: str
    kind: str

    @property
    def scale(self) -> tuple[int, int]:
        """The lowest and highest answer."""
        return ITEM_KINDS[self.kind]


@dataclass(frozen=True)
class RedFlagRule:
    """An answer that opens a safety alert and holds the next dose."""

    item: str
    at_least: int | None
    at_most: int | None
    code: str
    urgency: str
    meaning: str
    citation: Citation

    def raised_by(self, value: int) -> bool:
        """Whether this answer raises the flag."""
        if self.at_least is not None and value >= self.at_least:
            return True
        return self.at_most is not None and value <= self.at_most


@dataclass(frozen=True)
class HomeRules:
    """Every rule of the at-home programme, from data/athome.toml."""

    gate: GateRule
    tracker_required: bool
    refill_min_doses: int
    refill_review_after_days: int
    refill_citation: Citation
    items: tuple[TrackerItem, ...]
    red_flags: tuple[RedFlagRule, ...]
    vital_alert_codes: tuple[str, str]
    vital_alert_urgency: str
    enrolment: EnrolmentRule
    sitter_checkins: SitterCheckinRule

    def urgency_of(self, code: str) -> str | None:
        """The urgency of one of this programme's alert codes, or None."""
        if code in self.vital_alert_codes:
            return self.vital_alert_urgency
        if code == self.sitter_checkins.concern_code:
            return self.sitter_checkins.concern_urgency
        return next((f.urgency for f in self.red_flags if f.code == code), None)


@cache
def load_home_rules() -> HomeRules:
    """The shipped at-home rules, validated on load."""
    document = read_document(ATHOME_FILE)
    gate_node = document.child("dose_gate")
    gate = GateRule(
        gate_node.boolean("sitter_required"),
        gate_node.integer("max_systolic", minimum=80, maximum=200),
        gate_node.integer("max_diastolic", minimum=40, maximum=130),
        gate_node.integer("max_heart_rate", minimum=40, maximum=160),
        gate_node.citation(),
    )
    gate_node.close()
    enrolment_node = document.child("enrolment")
    enrolment = EnrolmentRule(
        enrolment_node.boolean("screening_must_be_eligible"),
        enrolment_node.citation(),
    )
    enrolment_node.close()
    release = document.child("release")
    tracker_required = release.boolean("tracker_required")
    release.citation()
    release.close()
    refill = document.child("refill")
    min_doses = refill.integer("min_doses", minimum=1)
    after_days = refill.integer("review_after_days", minimum=1)
    refill_citation = refill.citation()
    refill.close()
    tracker = document.child("tracker")
    items = tuple(_item(node) for node in tracker.children("items"))
    ids = {item.id for item in items}
    flags = tuple(_red_flag(node, ids) for node in tracker.children("red_flags"))
    tracker.close()
    alerts = document.child("alerts")
    codes = (alerts.text("bp_code"), alerts.text("heart_rate_code"))
    urgency = alerts.text("urgency", choices=URGENCIES)
    alerts.citation()
    alerts.close()
    checkins_node = document.child("sitter_checkins")
    checkins = SitterCheckinRule(
        checkins_node.integer("interval_minutes", minimum=5, maximum=120),
        checkins_node.text("concern_code"),
        checkins_node.text("concern_urgency", choices=URGENCIES),
        checkins_node.citation(),
    )
    checkins_node.close()
    document.close()
    return HomeRules(
        gate,
        tracker_required,
        min_doses,
        after_days,
        refill_citation,
        items,
        flags,
        codes,
        urgency,
        enrolment,
        checkins,
    )


def _item(node: Node) -> TrackerItem:
    item = TrackerItem(
        node.text("id"), node.text("label"), node.text("kind", choices=tuple(ITEM_KINDS))
    )
    node.close()
    return item


def _red_flag(node: Node, item_ids: set[str]) -> RedFlagRule:
    item = node.text("item", choices=sorted(item_ids))
    at_least, at_most = node.opt_integer("at_least"), node.opt_integer("at_most")
    if (at_least is None) == (at_most is None):
        node.fail("at_least", "give exactly one of at_least and at_most")
    rule = RedFlagRule(
        item,
        at_least,
        at_most,
        node.text("code"),
        node.text("urgency", choices=URGENCIES),
        node.text("meaning"),
        node.citation(),
    )
    node.close()
    return rule


# --- enrolment ---------------------------------------------------------------------------------


def check_enrolment(
    screening: ScreeningFacts | None, *, route: str, rules: HomeRules | None = None
) -> tuple[Blocker, ...]:
    """What stops a patient joining the home programme on `route` (empty: they may join).

    Everything that holds a course in the clinic holds this too (no screening, unsigned,
    superseded, out of date, a result no rule knows); then, stricter at home, a screening short of
    eligible holds even when a prescriber signed it with a reason, because no one watches the dose.
    """
    rule = (rules or load_home_rules()).enrolment
    found = list(screening_blockers(screening, route=route))
    if found or screening is None:
        return tuple(found)
    if rule.screening_must_be_eligible and screening.status != ELIGIBLE:
        found.append(
            Blocker(
                HOME_SCREENING_NOT_ELIGIBLE,
                "screening",
                f"Screening {screening.id} is {screening.status}: at home no clinician watches "
                "the dose, so the programme needs an eligible screening. Treat in the clinic "
                "instead, or screen again when what it found is resolved.",
            )
        )
    return tuple(found)


# --- the sitter's check-ins during the session ------------------------------------------------


SITTER_CHECKIN_NOT_IN_SESSION = "sitter_checkin_not_in_session"
SITTER_CHECKIN_UNANSWERED = "sitter_checkin_unanswered"


@dataclass(frozen=True)
class CheckinState:
    """Where the sitter's check-ins stand: when the next falls due (None: no more this session)
    and whether it is already late."""

    next_due_at: datetime | None
    overdue: bool


def sitter_checkin_state(
    *,
    taken_at: datetime,
    session_ends_at: datetime,
    checkins: Sequence[datetime],
    now: datetime,
    rules: HomeRules | None = None,
) -> CheckinState:
    """The next check-in: an interval after the dose, then after each check-in, while the
    session runs."""
    interval = timedelta(minutes=(rules or load_home_rules()).sitter_checkins.interval_minutes)
    last = max([taken_at, *checkins])
    due = last + interval
    if due > session_ends_at:
        return CheckinState(None, False)
    return CheckinState(due, now > due)


def check_sitter_checkin(
    *, in_session: bool, well: bool | None, rules: HomeRules | None = None
) -> tuple[tuple[Blocker, ...], str | None]:
    """(what refuses this check-in, the alert code it opens). A check-in belongs to a dose taken
    and not yet tracked; "all is well" or "I am worried" must be chosen; a worry opens an alert."""
    rule = (rules or load_home_rules()).sitter_checkins
    if not in_session:
        reason = "There is no session running to check in on."
        return (Blocker(SITTER_CHECKIN_NOT_IN_SESSION, "dose", reason),), None
    if well is None:
        reason = "Choose whether all is well or you are worried."
        return (Blocker(SITTER_CHECKIN_UNANSWERED, "well", reason),), None
    return (), (None if well else rule.concern_code)


# --- the gate before each dose ---------------------------------------------------------------


@dataclass(frozen=True)
class GateFacts:
    """What the patient and sitter enter before a dose; None = not answered (refused)."""

    sitter_attested: bool
    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    fasting: bool | None
    no_alcohol_or_substances: bool | None
    safe_place: bool | None


def check_dose_gate(facts: GateFacts, rules: HomeRules | None = None) -> tuple[Blocker, ...]:
    """Everything that stops today's home dose (empty: the dose may be taken)."""
    rule = (rules or load_home_rules()).gate
    found: list[Blocker] = []
    if rule.sitter_required and not facts.sitter_attested:
        reason = "Your sitter confirms they are with you, with their own code."
        found.append(Blocker(HOME_SITTER_NOT_ATTESTED, "sitter_code", reason))
    found.extend(_vital_blockers(facts, rule))
    answers = (
        ("fasting", facts.fasting, HOME_NOT_FASTING, "Take it on an empty stomach."),
        (
            "no_alcohol_or_substances",
            facts.no_alcohol_or_substances,
            HOME_ALCOHOL_OR_SUBSTANCES,
            "No alcohol or other substances on a dose day.",
        ),
        ("safe_place", facts.safe_place, HOME_PLACE_NOT_SAFE, "Take it somewhere safe to rest."),
    )
    for field, answer, code, reason in answers:
        if answer is None:
            found.append(Blocker(HOME_CHECK_UNANSWERED, field, "Answer every question."))
        elif not answer:
            found.append(Blocker(code, field, f"Do not take it today. {reason}"))
    return tuple(found)


def _vital_blockers(facts: GateFacts, rule: GateRule) -> list[Blocker]:
    values = {"systolic": facts.systolic, "diastolic": facts.diastolic}
    values["heart_rate"] = facts.heart_rate
    missing = [name for name, value in values.items() if value is None]
    if missing:
        reason = "Measure your blood pressure and heart rate with the cuff and enter them."
        return [Blocker(HOME_VITALS_MISSING, missing[0], reason)]
    challenges = check_vital_signs(values)
    if challenges:
        return [Blocker(HOME_VITALS_IMPLAUSIBLE, challenges[0].field, challenges[0].message)]
    found: list[Blocker] = []
    call = "Do not take it today: the clinic will call you."
    sys_, dia = facts.systolic or 0, facts.diastolic or 0
    if sys_ > rule.max_systolic or dia > rule.max_diastolic:
        reason = (
            f"Blood pressure {sys_}/{dia} is above {rule.max_systolic}/{rule.max_diastolic}. {call}"
        )
        found.append(Blocker(HOME_BP_ABOVE_LIMIT, "systolic", reason))
    if (facts.heart_rate or 0) > rule.max_heart_rate:
        reason = f"Heart rate {facts.heart_rate} is above {rule.max_heart_rate}. {call}"
        found.append(Blocker(HOME_HEART_RATE_ABOVE_LIMIT, "heart_rate", reason))
    return found


def gate_alert_codes(blockers: tuple[Blocker, ...]) -> tuple[str, ...]:
    """The gate's refusals that open a safety alert (BP or heart rate above the limit)."""
    codes = load_home_rules().vital_alert_codes
    return tuple(b.code for b in blockers if b.code in codes)


# --- the tracker after each dose --------------------------------------------------------------


@dataclass(frozen=True)
class TrackerAssessment:
    """A filled tracker: items not answered (or out of scale) and the red flags it raises."""

    missing: tuple[str, ...]
    red_flags: tuple[RedFlagRule, ...]

    @property
    def complete(self) -> bool:
        """Whether every item has an answer on its scale."""
        return not self.missing


def assess_tracker(
    answers: Mapping[str, int | None], rules: HomeRules | None = None
) -> TrackerAssessment:
    """Which answers are missing or off-scale, and which red flags the answers raise."""
    rules = rules or load_home_rules()
    missing: list[str] = []
    for item in rules.items:
        value = answers.get(item.id)
        low, high = item.scale
        if value is None or isinstance(value, bool) or not low <= value <= high:
            missing.append(item.id)
    flags = tuple(
        flag
        for flag in rules.red_flags
        if flag.item not in missing and flag.raised_by(int(answers[flag.item] or 0))
    )
    return TrackerAssessment(tuple(missing), flags)


# --- releasing the next dose ------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseFacts:
    """What decides whether the next home dose is released today."""

    today: date
    doses_taken: int
    doses_planned: int | None
    last_dose_on: date | None
    min_interval_days: int
    trackers_missing: int
    open_red_flags: int
    supply_left: int | None
    units_per_dose: int


def check_release(facts: ReleaseFacts, rules: HomeRules | None = None) -> tuple[Blocker, ...]:
    """Everything that holds the next dose (empty: released)."""
    rules = rules or load_home_rules()
    found: list[Blocker] = []
    if rules.tracker_required and facts.trackers_missing:
        reason = "Fill in the check-in about your last dose first; the next dose opens after it."
        found.append(Blocker(HOME_TRACKER_MISSING, "tracker", reason))
    if facts.open_red_flags:
        reason = "The clinic is reviewing your last check-in; they will contact you."
        found.append(Blocker(HOME_RED_FLAG_OPEN, "tracker", reason))
    if facts.doses_planned is None or facts.doses_taken >= facts.doses_planned:
        reason = "Every dose of your plan has been taken; the clinic will plan what comes next."
        found.append(Blocker(HOME_PLAN_COMPLETE, "plan", reason))
    if facts.last_dose_on is not None:
        earliest = facts.last_dose_on + timedelta(days=facts.min_interval_days)
        if facts.today < earliest:
            reason = f"Your next dose is due on {earliest.isoformat()}."
            found.append(Blocker(HOME_TOO_SOON, "date", reason))
    if facts.supply_left is None or facts.supply_left < facts.units_per_dose:
        reason = "There is not enough medicine recorded for this dose; the clinic will call."
        found.append(Blocker(HOME_SUPPLY_SHORT, "supply", reason))
    return tuple(found)


# --- refills ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefillFacts:
    """What decides whether a refill may be released: doses, the review, the supply counts."""

    today: date
    programme_started_on: date
    doses_taken: int
    review_on: date | None
    dispensed: int
    taken: int
    reported_lost: int
    counted: int | None
    refills_authorised: int
    refills_used: int

    @property
    def unaccounted(self) -> int | None:
        """Units dispensed but neither taken, reported lost nor counted (None: not counted)."""
        if self.counted is None:
            return None
        return self.dispensed - self.taken - self.reported_lost - self.counted


def check_refill(facts: RefillFacts, rules: HomeRules | None = None) -> tuple[Blocker, ...]:
    """Everything that stops a refill (empty: it may be released)."""
    rules = rules or load_home_rules()
    policy = f"clinic policy, {rules.refill_citation.render()}"
    found: list[Blocker] = []
    if facts.refills_used >= facts.refills_authorised:
        reason = "The prescription authorises no further refill."
        found.append(Blocker(REFILL_NONE_AUTHORISED, "refills", reason))
    if facts.doses_taken < rules.refill_min_doses:
        reason = f"A refill follows at least {rules.refill_min_doses} doses ({policy})."
        found.append(Blocker(REFILL_TOO_FEW_DOSES, "doses", reason))
    due = facts.programme_started_on + timedelta(days=rules.refill_review_after_days)
    if facts.review_on is None or facts.review_on < due or facts.review_on > facts.today:
        reason = (
            f"A refill follows the follow-up review on or after {due.isoformat()} "
            f"({rules.refill_review_after_days} days; {policy})."
        )
        found.append(Blocker(REFILL_REVIEW_MISSING, "review", reason))
    missing = facts.unaccounted
    if missing is None:
        reason = "Count the medicine left at home at the review before a refill."
        found.append(Blocker(REFILL_COUNT_MISSING, "counted", reason))
    elif missing != 0:
        reason = (
            f"The supply does not reconcile: {facts.dispensed} dispensed, {facts.taken} taken, "
            f"{facts.reported_lost} reported lost, {facts.counted} counted "
            f"({abs(missing)} {'unaccounted for' if missing > 0 else 'too many'})."
        )
        found.append(Blocker(REFILL_UNRECONCILED, "counted", reason))
    return tuple(found)


# --- the prescriber's dose steps --------------------------------------------------------------


def check_dose_step(
    rule: FixedStepDose, *, current_mg: Decimal, new_mg: Decimal
) -> tuple[Blocker, ...]:
    """A new home dose: inside the protocol's range, on its steps, at most one step up at a time."""
    low, high = rule.range_mg
    if not low <= new_mg <= high:
        reason = f"Home doses are {low}-{high} mg under the protocol."
        return (Blocker(STEP_OUT_OF_RANGE, "dose_mg", reason),)
    if (new_mg - rule.start_mg) % rule.step_mg != 0:
        reason = f"Doses move in steps of {rule.step_mg} mg from {rule.start_mg} mg."
        return (Blocker(STEP_NOT_ON_STEP, "dose_mg", reason),)
    if new_mg - current_mg > rule.step_mg:
        reason = f"Step up one {rule.step_mg} mg step at a time (from {current_mg} mg)."
        return (Blocker(STEP_TOO_LARGE, "dose_mg", reason),)
    return ()
