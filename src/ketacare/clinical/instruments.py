"""Rating scales as data (items, ranges, scoring, bands, alerts); `score` scores answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from ketacare.clinical._data import Citation, Node, list_documents, read_document
from ketacare.clinical.errors import InvalidInput

INSTRUMENT_IDS: tuple[str, ...] = (
    "phq9",
    "gad7",
    "madrs",
    "qids_sr16",
    "pcl5",
    "cssrs_screen",
    "moaas",
    "pain_nrs",
    "audit_c",
    "audit",
    "dast10",
    "craving_nrs",
    "ketamine_bladder_checklist",
    "ketamine_withdrawal_checklist",
)

# Alert codes raised by the instrument data (each documented in its file's [[alerts]]).
ALERT_SUICIDALITY = "suicidality"
ALERT_CSSRS_MODERATE = "cssrs_moderate"
ALERT_CSSRS_HIGH = "cssrs_high"
ALERT_DEEP_SEDATION = "deep_sedation"

LOINC = "LOINC"  # code system http://loinc.org
KETACARE_LOCAL = "ketacare-local"  # KetaCare's own code system until a LOINC code is confirmed

SCORING_SUM = "sum"  # total = sum of items
SCORING_DOMAINS = "domains"  # total = sum of domain scores (QIDS-SR16)
SCORING_TRIAGE = "triage"  # band from yes/no risk rules (C-SSRS screener)
# A checklist of yes/no symptoms: the total is the count endorsed and the band is always
# CHECKLIST_BAND; it is recorded as a checklist, never as a validated score with cut-points.
SCORING_CHECKLIST = "checklist"
CHECKLIST_BAND = "checklist (not a validated score)"
COMBINE = ("sum", "max")


@dataclass(frozen=True)
class Code:
    """A code in a code system (LOINC, or KetaCare's local system)."""

    system: str
    code: str


@dataclass(frozen=True)
class AnswerOption:
    """One answer a patient or rater may choose, with its label for forms."""

    value: int
    label: str


@dataclass(frozen=True)
class Item:
    """One question: 1-based number, id, short label, wording (None if not licensed), range."""

    number: int
    id: str
    label: str
    text: str | None
    min: int
    max: int
    options: tuple[AnswerOption, ...]
    code: Code | None = None
    required_if: str | None = None


@dataclass(frozen=True)
class Band:
    """A severity band: a name and an inclusive total range (None for triage bands)."""

    name: str
    min: int | None
    max: int | None
    citation: Citation


@dataclass(frozen=True)
class Domain:
    """A group of items combined by sum or max (QIDS-SR16 domains, PCL-5 clusters)."""

    id: str
    items: tuple[int, ...]
    combine: str
    min_endorsed: int | None = None


@dataclass(frozen=True)
class AlertRule:
    """When an alert code is raised: an item at or above a value, a band, or a total at or below."""

    code: str
    meaning: str
    citation: Citation
    item: int | None = None
    at_least: int | None = None
    band: str | None = None
    total_at_most: int | None = None

    def fires(self, total: int, band: str, answers: Sequence[int]) -> bool:
        """Whether this alert applies to a scored answer set."""
        if self.item is not None and self.at_least is not None:
            return answers[self.item - 1] >= self.at_least
        if self.band is not None:
            return band == self.band
        return self.total_at_most is not None and total <= self.total_at_most


@dataclass(frozen=True)
class RiskRule:
    """A triage rule: the band applies when any (or all) of the named items are yes."""

    band: str
    any_yes: tuple[str, ...]
    all_yes: tuple[str, ...]
    citation: Citation


@dataclass(frozen=True)
class Endorsement:
    """An item at or above `item_at_least` counts as endorsed; all domains' minima set `flag`."""

    item_at_least: int
    flag: str
    citation: Citation


@dataclass(frozen=True)
class Licence:
    """Whether the item wording may be and is reproduced, and the licence note."""

    wording_reproduced: bool
    note: str


@dataclass(frozen=True)
class Instrument:
    """A rating scale as validated data."""

    id: str
    version: str
    name: str
    short_name: str
    respondent: str
    instructions: str | None
    scoring: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    domains: tuple[Domain, ...]
    alerts: tuple[AlertRule, ...]
    risk_rules: tuple[RiskRule, ...]
    endorsement: Endorsement | None
    licence: Licence
    panel_code: Code | None
    total_code: Code | None
    citation: Citation
    min_total: int
    max_total: int

    @property
    def answer_kind(self) -> str:
        """'yes_no' for the C-SSRS screener (booleans or 0/1), 'integer' otherwise."""
        return "yes_no" if self.scoring in (SCORING_TRIAGE, SCORING_CHECKLIST) else "integer"

    def band_for(self, total: int) -> str:
        """The band name of a total (sum and domain scoring; a checklist's one band)."""
        if self.scoring == SCORING_CHECKLIST and self.min_total <= total <= self.max_total:
            return CHECKLIST_BAND
        for band in self.bands:
            if band.min is not None and band.max is not None and band.min <= total <= band.max:
                return band.name
        raise InvalidInput(
            f"{self.short_name} total {total} is outside {self.min_total}-{self.max_total}",
            field="total",
        )


@dataclass(frozen=True)
class Score:
    """A scored answer set: total, band, alert codes, and the parts it was built from."""

    instrument_id: str
    total: int
    band: str
    alerts: list[str]
    min_total: int
    max_total: int
    item_scores: tuple[int, ...]
    domain_scores: dict[str, int] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)


def score(instrument_id: str, answers: Sequence[int | bool | None]) -> Score:
    """Score answers in item order; wrong or missing answers raise InvalidInput naming the item."""
    instrument = get_instrument(instrument_id)
    values = _validated_answers(instrument, answers)
    domain_scores = {domain.id: _combine(domain, values) for domain in instrument.domains}
    flags: dict[str, bool] = {}
    if instrument.scoring == SCORING_TRIAGE:
        total = sum(
            values[index] for index, item in enumerate(instrument.items) if not item.required_if
        )
        band = _triage_band(instrument, values)
    else:
        total = (
            sum(domain_scores.values()) if instrument.scoring == SCORING_DOMAINS else sum(values)
        )
        band = instrument.band_for(total)
    if instrument.endorsement is not None:
        flags[instrument.endorsement.flag] = all(
            _endorsed(domain, values, instrument.endorsement) for domain in instrument.domains
        )
    alerts = list(
        dict.fromkeys(rule.code for rule in instrument.alerts if rule.fires(total, band, values))
    )
    return Score(
        instrument_id=instrument.id,
        total=total,
        band=band,
        alerts=alerts,
        min_total=instrument.min_total,
        max_total=instrument.max_total,
        item_scores=tuple(values),
        domain_scores=domain_scores,
        flags=flags,
    )


def get_instrument(instrument_id: str) -> Instrument:
    """The instrument with this id, or InvalidInput naming the known ids."""
    instruments = load_instruments()
    if instrument_id not in instruments:
        raise InvalidInput(
            f"unknown instrument {instrument_id!r}; known: {', '.join(INSTRUMENT_IDS)}",
            field="instrument_id",
        )
    return instruments[instrument_id]


@cache
def load_instruments() -> dict[str, Instrument]:
    """All packaged instruments by id, validated once."""
    instruments = {}
    for name in list_documents("instruments"):
        instrument = parse_instrument(read_document(name))
        instruments[instrument.id] = instrument
    return instruments


def _validated_answers(instrument: Instrument, answers: Sequence[int | bool | None]) -> list[int]:
    if isinstance(answers, str | bytes) or not isinstance(answers, Sequence):
        raise InvalidInput(
            f"{instrument.short_name} answers must be a sequence in item order", field="answers"
        )
    items = instrument.items
    required = [item for item in items if item.required_if is None]
    if len(answers) > len(items):
        raise InvalidInput(
            f"{instrument.short_name} has {len(items)} items; got {len(answers)} answers",
            field="answers",
        )
    if len(answers) < len(required):
        missing = items[len(answers)]
        raise InvalidInput(
            f"{instrument.short_name} needs {len(required)} answers, got {len(answers)}: "
            f"missing answer for item {missing.number} ({missing.id}); answers are never prorated",
            field=missing.id,
        )
    values = [
        _validated_answer(instrument, item, answer)
        for item, answer in zip(items, answers, strict=False)
    ]
    given = {item.id for item in items[: len(values)]}
    values.extend([0] * (len(items) - len(values)))
    by_id = {item.id: value for item, value in zip(items, values, strict=True)}
    for item in items:
        if item.required_if is None:
            continue
        if by_id[item.required_if] and item.id not in given:
            raise InvalidInput(
                f"missing answer for item {item.number} ({item.id}): required when "
                f"{item.required_if} is yes",
                field=item.id,
            )
        if not by_id[item.required_if] and by_id[item.id]:
            raise InvalidInput(
                f"item {item.number} ({item.id}) is yes but {item.required_if} is no",
                field=item.id,
            )
    return values


def _validated_answer(instrument: Instrument, item: Item, answer: int | bool | None) -> int:
    if answer is None:
        raise InvalidInput(
            f"missing answer for item {item.number} ({item.id}); answers are never prorated",
            field=item.id,
        )
    if isinstance(answer, bool):
        if instrument.answer_kind != "yes_no":
            raise InvalidInput(
                f"item {item.number} ({item.id}) needs an integer {item.min}-{item.max}, got "
                f"{answer!r}",
                field=item.id,
            )
        return int(answer)
    if not isinstance(answer, int):
        raise InvalidInput(
            f"item {item.number} ({item.id}) needs an integer {item.min}-{item.max}, got "
            f"{answer!r}",
            field=item.id,
        )
    if not item.min <= answer <= item.max:
        raise InvalidInput(
            f"item {item.number} ({item.id}) is {answer}, outside {item.min}-{item.max}",
            field=item.id,
        )
    allowed = [option.value for option in item.options]
    if answer not in allowed:
        raise InvalidInput(
            f"item {item.number} ({item.id}) is {answer}, not one of {allowed}", field=item.id
        )
    return answer


def _combine(domain: Domain, values: Sequence[int]) -> int:
    scores = [values[number - 1] for number in domain.items]
    return max(scores) if domain.combine == "max" else sum(scores)


def _endorsed(domain: Domain, values: Sequence[int], endorsement: Endorsement) -> bool:
    count = sum(1 for number in domain.items if values[number - 1] >= endorsement.item_at_least)
    return count >= (domain.min_endorsed or 0)


def _triage_band(instrument: Instrument, values: Sequence[int]) -> str:
    yes = {item.id for item, value in zip(instrument.items, values, strict=True) if value}
    order = [band.name for band in instrument.bands]
    level = 0
    for rule in instrument.risk_rules:
        matched = bool(yes & set(rule.any_yes)) or (bool(rule.all_yes) and set(rule.all_yes) <= yes)
        if matched:
            level = max(level, order.index(rule.band))
    return order[level]


# --- loading and validation -------------------------------------------------------------------


def parse_instrument(doc: Node) -> Instrument:
    """Validate one instrument document; a problem raises DataError naming file and key."""
    citation = doc.citation()
    scoring = doc.text(
        "scoring", choices=(SCORING_SUM, SCORING_DOMAINS, SCORING_TRIAGE, SCORING_CHECKLIST)
    )
    shared_options = tuple(_parse_option(node) for node in doc.opt_children("options"))
    items = tuple(
        _parse_item(node, number, shared_options)
        for number, node in enumerate(doc.children("items"), start=1)
    )
    item_ids = [item.id for item in items]
    if len(set(item_ids)) != len(item_ids):
        doc.fail("items", "item ids must be unique")
    conditional = [item.required_if is not None for item in items]
    if conditional != sorted(conditional):
        doc.fail("items", "items with required_if must come last")
    for item in items:
        if item.required_if is not None and item.required_if not in item_ids:
            doc.fail("items", f"{item.id}.required_if names unknown item {item.required_if!r}")
    domains = tuple(_parse_domain(node, len(items)) for node in doc.opt_children("domains"))
    if scoring == SCORING_CHECKLIST:
        if doc.has("bands"):
            doc.fail("bands", "a checklist has no bands: it is not a validated score")
        if any((item.min, item.max) != (0, 1) for item in items):
            doc.fail("items", "checklist items are yes/no (0 and 1)")
        bands: tuple[Band, ...] = (Band(CHECKLIST_BAND, 0, len(items), citation),)
    else:
        bands = tuple(_parse_band(node, citation, scoring) for node in doc.children("bands"))
    min_total, max_total = _total_range(scoring, items, domains)
    if scoring == SCORING_DOMAINS and not domains:
        doc.fail("domains", "domain scoring needs domains")
    if scoring not in (SCORING_TRIAGE, SCORING_CHECKLIST):
        _check_bands_cover(doc, bands, min_total, max_total)
    band_names = [band.name for band in bands]
    risk_rules = tuple(
        _parse_risk_rule(node, band_names, item_ids) for node in doc.opt_children("risk_rules")
    )
    if scoring == SCORING_TRIAGE and not risk_rules:
        doc.fail("risk_rules", "triage scoring needs risk rules")
    alerts = tuple(_parse_alert(node, items, band_names) for node in doc.opt_children("alerts"))
    endorsement_node = doc.opt_child("endorsement")
    endorsement = None
    if endorsement_node is not None:
        endorsement = Endorsement(
            endorsement_node.integer("item_at_least", minimum=0),
            endorsement_node.text("flag"),
            endorsement_node.citation(),
        )
        endorsement_node.close()
    licence_node = doc.child("licence")
    licence = Licence(licence_node.boolean("wording_reproduced"), licence_node.text("note"))
    licence_node.close()
    if not licence.wording_reproduced and any(item.text for item in items):
        doc.fail("items", "item wording present although licence.wording_reproduced is false")
    codes = doc.opt_child("codes")
    panel_code = total_code = None
    if codes is not None:
        panel_code = _parse_code(codes.opt_child("panel"))
        total_code = _parse_code(codes.opt_child("total"))
        codes.close()
    instrument = Instrument(
        id=doc.text("id"),
        version=doc.text("version"),
        name=doc.text("name"),
        short_name=doc.text("short_name"),
        respondent=doc.text("respondent", choices=("patient", "clinician")),
        instructions=doc.opt_text("instructions"),
        scoring=scoring,
        items=items,
        bands=bands,
        domains=domains,
        alerts=alerts,
        risk_rules=risk_rules,
        endorsement=endorsement,
        licence=licence,
        panel_code=panel_code,
        total_code=total_code,
        citation=citation,
        min_total=min_total,
        max_total=max_total,
    )
    doc.close()
    return instrument


def _parse_option(node: Node) -> AnswerOption:
    option = AnswerOption(node.integer("value"), node.text("label"))
    node.close()
    return option


def _parse_item(node: Node, number: int, shared: tuple[AnswerOption, ...]) -> Item:
    own = tuple(_parse_option(option) for option in node.opt_children("options"))
    options = own or shared
    if not options:
        node.fail("options", "no answer options (neither the item's nor the instrument's)")
    values = [option.value for option in options]
    # Usually consecutive; AUDIT items 9 and 10 score 0, 2 and 4 (Babor 2001), so gaps are allowed
    # and an answer must be one of the values offered.
    if values != sorted(set(values)):
        node.fail("options", "option values must be unique and ascending")
    code = node.opt_text("code")
    item = Item(
        number=number,
        id=node.text("id"),
        label=node.text("label"),
        text=node.opt_text("text"),
        min=values[0],
        max=values[-1],
        options=options,
        code=Code(LOINC, code) if code else None,
        required_if=node.opt_text("required_if"),
    )
    node.close()
    return item


def _parse_domain(node: Node, item_count: int) -> Domain:
    items = node.integers("items", minimum=1)
    if max(items) > item_count:
        node.fail("items", f"item {max(items)} does not exist (the instrument has {item_count})")
    domain = Domain(
        node.text("id"),
        items,
        node.text("combine", choices=COMBINE),
        node.opt_integer("min_endorsed", minimum=0),
    )
    node.close()
    return domain


def _parse_band(node: Node, default: Citation, scoring: str) -> Band:
    citation = node.citation() if node.has("source") else default
    if scoring == SCORING_TRIAGE:
        band = Band(node.text("name"), None, None, citation)
    else:
        band = Band(node.text("name"), node.integer("min"), node.integer("max"), citation)
    node.close()
    return band


def _total_range(
    scoring: str, items: tuple[Item, ...], domains: tuple[Domain, ...]
) -> tuple[int, int]:
    if scoring == SCORING_TRIAGE:
        return 0, sum(item.max for item in items if item.required_if is None)
    if scoring == SCORING_DOMAINS:
        lows = [item.min for item in items]
        highs = [item.max for item in items]
        return (
            sum(_combine(domain, lows) for domain in domains),
            sum(_combine(domain, highs) for domain in domains),
        )
    return sum(item.min for item in items), sum(item.max for item in items)


def _check_bands_cover(doc: Node, bands: tuple[Band, ...], low: int, high: int) -> None:
    expected = low
    for index, band in enumerate(bands):
        band_min, band_max = band.min, band.max
        if band_min is None or band_max is None or band_min != expected or band_max < band_min:
            doc.fail(
                f"bands[{index}]",
                f"bands must cover {low}-{high} in order without gaps or overlaps; "
                f"expected a band starting at {expected}",
            )
        expected = band_max + 1
    if expected != high + 1:
        doc.fail("bands", f"bands end at {expected - 1}, but the maximum total is {high}")


def _parse_risk_rule(node: Node, band_names: list[str], item_ids: list[str]) -> RiskRule:
    band = node.text("band", choices=band_names)
    any_yes = node.texts("any_yes") if node.has("any_yes") else ()
    all_yes = node.texts("all_yes") if node.has("all_yes") else ()
    if not any_yes and not all_yes:
        node.fail("any_yes", "a risk rule needs any_yes or all_yes")
    for item_id in (*any_yes, *all_yes):
        if item_id not in item_ids:
            node.fail("any_yes", f"unknown item {item_id!r}")
    rule = RiskRule(band, any_yes, all_yes, node.citation())
    node.close()
    return rule


def _parse_alert(node: Node, items: tuple[Item, ...], band_names: list[str]) -> AlertRule:
    item = node.opt_integer("item", minimum=1, maximum=len(items))
    at_least = node.opt_integer("at_least")
    band = node.opt_text("band")
    total_at_most = node.opt_integer("total_at_most")
    conditions = [item is not None, band is not None, total_at_most is not None]
    if sum(conditions) != 1 or (item is None) != (at_least is None):
        node.fail("code", "an alert needs exactly one of: item with at_least, band, total_at_most")
    if band is not None and band not in band_names:
        node.fail("band", f"unknown band {band!r}")
    if (
        item is not None
        and at_least is not None
        and not items[item - 1].min < at_least <= items[item - 1].max
    ):
        node.fail("at_least", f"{at_least} cannot be reached above the minimum of item {item}")
    alert = AlertRule(
        code=node.text("code"),
        meaning=node.text("meaning"),
        citation=node.citation(),
        item=item,
        at_least=at_least,
        band=band,
        total_at_most=total_at_most,
    )
    node.close()
    return alert


def _parse_code(node: Node | None) -> Code | None:
    if node is None:
        return None
    code = Code(node.text("system", choices=(LOINC, KETACARE_LOCAL)), node.text("code"))
    node.close()
    return code
