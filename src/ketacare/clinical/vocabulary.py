"""Vocabularies: medicines by ingredient, conditions by ICD-10-CM and SNOMED CT, read as recorded.

Screening reads every recorded entry (a code, a brand name, a line of free text) through these,
and knows whether it understood the whole entry. An entry it cannot read is never ignored: the
eligibility engine answers "needs review" and names it (reference §2, fail closed).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from ketacare.clinical._data import Citation, Node, read_document
from ketacare.clinical.errors import DataError, InvalidInput

MEDICINES_FILE = "vocabulary/medicines.toml"
CONDITIONS_FILE = "vocabulary/conditions.toml"
CHECKLISTS = ("psychiatric_history", "medical_history")

# ICD-10-CM (code system 2.16.840.1.113883.6.90): a letter, a digit, a digit or letter, then an
# optional dot and up to four more. U is reserved for special purposes and not used here.
ICD10_PATTERN = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
_ICD10_PREFIX = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$")
_SNOMED = re.compile(r"^[0-9]{6,18}$")
_RXNORM = re.compile(r"^[0-9]{1,8}$")
_CODE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_INGREDIENT_ID = re.compile(r"^[a-z][a-z0-9 -]*[a-z0-9]$")

# Words that say how much or in what form, not what: "Xanax XR 1 mg tablets at night" is Xanax.
_STRENGTH = re.compile(r"^\d+([a-z]{1,5})?$")
_FORM_WORDS = frozenset(
    re.findall(
        r"\w+",
        "mg mcg ug g ml mls iu unit units tablet tablets tab tabs capsule capsules cap caps er xr "
        "sr cr la xl ir dr ec odt od bd bid tid qid qd qhs hs daily nightly prn po oral orally "
        "extended release delayed immediate patch patches solution injection spray nasal liquid "
        "film sublingual nocte mane once twice a day per at night morning as needed every weekly",
    )
)
_COMBINATION = re.compile(r"\s*(?:/|\+|,|;|&|\band\b|\bwith\b)\s*", re.IGNORECASE)
_MAX_PHRASE_WORDS = 8


def normalize(text: str) -> str:
    """A name as the vocabulary compares it: lower case, punctuation and spacing folded."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def normalize_icd10(value: str) -> str:
    """An ICD-10-CM code in its canonical form (upper case, dot after three characters)."""
    code = value.strip().upper().replace(" ", "")
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    if not ICD10_PATTERN.match(code):
        raise InvalidInput(f"{value!r} is not an ICD-10-CM code (e.g. F33.1)", field="icd10")
    return code


@dataclass(frozen=True)
class MedicineClass:
    """A group of ingredients a rule names (benzodiazepines, MAOIs...), with its source."""

    id: str
    label: str
    citation: Citation


@dataclass(frozen=True)
class Ingredient:
    """One ingredient: its RxNorm code where confirmed, classes, brand names and synonyms."""

    id: str
    rxnorm: str | None
    classes: tuple[str, ...]
    brands: tuple[str, ...]
    synonyms: tuple[str, ...]


@dataclass(frozen=True)
class Condition:
    """One condition: the rules' code, label, ICD-10-CM prefixes, SNOMED CT ids and synonyms."""

    id: str
    label: str
    icd10: tuple[str, ...]
    snomed: tuple[str, ...]
    synonyms: tuple[str, ...]
    checklist: str | None


@dataclass(frozen=True)
class Term:
    """A substance or allergen: an id, a label and the names people write for it."""

    id: str
    label: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """How one recorded entry was read: what it stands for, and whether all of it was understood.

    An entry not understood may still name something inside it (`concepts`, e.g. "aortic
    aneurysm repaired 2019"): rules fire on it, and the entry is still named for review.
    """

    entry: str
    understood: bool
    concepts: tuple[str, ...]
    meaning: str


@dataclass(frozen=True)
class Vocabulary:
    """Both vocabularies with their name indexes (normalised name → concept ids)."""

    classes: dict[str, MedicineClass]
    ingredients: dict[str, Ingredient]
    products: dict[str, tuple[str, ...]]
    allergens: dict[str, Term]
    conditions: dict[str, Condition]
    substances: dict[str, Term]
    icd10_titles: dict[str, str]
    medicines_citation: Citation
    conditions_citation: Citation
    medicine_index: dict[str, tuple[str, ...]]
    condition_index: dict[str, tuple[str, ...]]
    substance_index: dict[str, tuple[str, ...]]
    allergen_index: dict[str, tuple[str, ...]]
    snomed_index: dict[str, tuple[str, ...]]

    # --- reading entries -----------------------------------------------------------------------

    def read_medicine(self, entry: str) -> Reading:
        """A medicine as recorded (generic, brand, combination, with strength) → its ingredients."""
        ingredients = self._medicine_ingredients(entry)
        if ingredients is not None:
            concepts = self._with_classes(ingredients)
            return Reading(entry, True, concepts, self._describe(ingredients))
        found = _scan(entry, self.medicine_index)
        return Reading(entry, False, self._with_classes(found), "not in the medicine vocabulary")

    def read_condition_code(self, code: str) -> Reading:
        """A recorded condition code → its label. Fails closed: a code the vocabulary does not
        hold (retired, or from another version) is not understood and is shown as recorded."""
        condition = self.conditions.get(code)
        if condition is None:
            return Reading(code, False, (), "not a condition code the vocabulary holds")
        return Reading(code, True, (code,), str(condition.label))

    def read_allergy(self, entry: str) -> Reading:
        """An allergy: a medicine (by ingredient), a medicine class, or another allergen."""
        medicine = self.read_medicine(entry)
        if medicine.understood:
            return medicine
        key = normalize(entry)
        for index in (self.allergen_index, self._class_index()):
            if key in index:
                return Reading(entry, True, index[key], self._label_of(index[key]))
        found = (
            *medicine.concepts,
            *_scan(entry, self.allergen_index),
            *_scan(entry, self._class_index()),
        )
        return Reading(entry, False, _unique(found), "not in the medicine or allergen vocabulary")

    def read_condition(self, entry: str) -> Reading:
        """A condition as recorded: an ICD-10-CM code, a SNOMED CT id, a code or a synonym."""
        text = entry.strip()
        if _looks_like_icd10(text):
            code = normalize_icd10(text)
            found = self.conditions_for_icd10(code)
            title = self.icd10_titles.get(code, "")
            if found:
                return Reading(entry, True, found, self._label_of(found))
            return Reading(
                entry, False, (), f"ICD-10-CM {code}{f' ({title})' if title else ''} is not mapped"
            )
        if _SNOMED.match(text):
            found = self.snomed_index.get(text, ())
            if found:
                return Reading(entry, True, found, self._label_of(found))
            return Reading(entry, False, (), f"SNOMED CT {text} is not mapped")
        key = normalize(text)
        if text in self.conditions or key in self.condition_index:
            found = (text,) if text in self.conditions else self.condition_index[key]
            return Reading(entry, True, found, self._label_of(found))
        found = _scan(text, self.condition_index)
        return Reading(entry, False, found, "not in the condition vocabulary")

    def read_substance(self, entry: str) -> Reading:
        """A substance used (not as prescribed), by code or name."""
        key = normalize(entry)
        if entry in self.substances or key in self.substance_index:
            found = (entry,) if entry in self.substances else self.substance_index[key]
            return Reading(entry, True, found, self._label_of(found))
        return Reading(
            entry, False, _scan(entry, self.substance_index), "not in the substance vocabulary"
        )

    def conditions_for_icd10(self, code: str) -> tuple[str, ...]:
        """The condition codes an ICD-10-CM code stands for (maybe none)."""
        code = normalize_icd10(code)
        found = [
            condition.id
            for condition in self.conditions.values()
            for prefix in condition.icd10
            if code == prefix or code.startswith(prefix if "." in prefix else prefix + ".")
        ]
        return _unique(found)

    # --- labels and suggestions ----------------------------------------------------------------

    def label(self, concept: str) -> str:
        """A person-readable label for a condition, substance, ingredient, class or allergen."""
        for table in (self.conditions, self.substances, self.classes, self.allergens):
            if concept in table:
                return str(table[concept].label)
        return concept.replace("_", " ").capitalize() if "_" in concept else concept

    def checklist(self, section: str) -> tuple[str, ...]:
        """The condition codes a chart history section offers as boxes, in the file's order."""
        return tuple(c.id for c in self.conditions.values() if c.checklist == section)

    def medicine_names(self) -> tuple[str, ...]:
        """Every generic, brand and product name, for the chart's as-you-type suggestions."""
        names = {*self.ingredients, *self.products}
        for ingredient in self.ingredients.values():
            names.update(ingredient.brands)
            names.update(ingredient.synonyms)
        return tuple(sorted(names, key=lambda name: (name.lower(), name)))

    def condition_names(self) -> tuple[str, ...]:
        """Every condition label and synonym, for the chart's as-you-type suggestions."""
        names: set[str] = set()
        for condition in self.conditions.values():
            names.add(condition.label)
            names.update(condition.synonyms)
        return tuple(sorted(names, key=lambda name: (name.lower(), name)))

    def suggest(self, kind: str, text: str, *, limit: int = 5) -> tuple[str, ...]:
        """Names close to what was typed (a misspelling), for 'did you mean' in the chart."""
        names = {"medicine": self.medicine_names, "condition": self.condition_names}[kind]()
        by_key: dict[str, str] = {}
        for name in names:  # sorted, so the same name wins each time
            by_key.setdefault(normalize(name), name)
        close = difflib.get_close_matches(normalize(text), list(by_key), n=limit, cutoff=0.75)
        return tuple(by_key[key] for key in close)

    def antidepressants(self) -> tuple[str, ...]:
        """Generic names in the antidepressant class, for the trials section's suggestions."""
        return tuple(i.id for i in self.ingredients.values() if "antidepressants" in i.classes)

    # --- internals -----------------------------------------------------------------------------

    def _medicine_ingredients(self, entry: str) -> tuple[str, ...] | None:
        whole = self._lookup_medicine(entry)
        if whole is not None:
            return whole
        for separator in (_COMBINATION, re.compile(r"\s*-\s*")):
            parts = [part for part in separator.split(entry) if part.strip()]
            if len(parts) < 2:
                continue
            readings = [self._lookup_medicine(part) for part in parts]
            if all(reading is not None for reading in readings):
                return _unique(i for reading in readings if reading for i in reading)
        return None

    def _lookup_medicine(self, text: str) -> tuple[str, ...] | None:
        key = normalize(text)
        if key in self.medicine_index:
            return self.medicine_index[key]
        words = [w for w in key.split() if w not in _FORM_WORDS and not _STRENGTH.match(w)]
        stripped = " ".join(words)
        return self.medicine_index.get(stripped) if stripped else None

    def _with_classes(self, ingredients: Iterable[str]) -> tuple[str, ...]:
        found: list[str] = []
        for ingredient in ingredients:
            found.append(ingredient)
            found.extend(self.ingredients[ingredient].classes)
        return _unique(found)

    def _describe(self, ingredients: tuple[str, ...]) -> str:
        parts = []
        for ingredient_id in ingredients:
            ingredient = self.ingredients[ingredient_id]
            code = f"RxNorm {ingredient.rxnorm}" if ingredient.rxnorm else "no RxNorm code held"
            classes = ", ".join(self.classes[c].label for c in ingredient.classes)
            parts.append(f"{ingredient.id} ({code}{'; ' + classes if classes else ''})")
        return " + ".join(parts)

    def _label_of(self, concepts: tuple[str, ...]) -> str:
        return ", ".join(self.label(concept) for concept in concepts)

    def _class_index(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, tuple[str, ...]] = {}
        for cls in self.classes.values():
            index[normalize(cls.id)] = (cls.id,)
        return index


def _looks_like_icd10(text: str) -> bool:
    try:
        normalize_icd10(text)
    except InvalidInput:
        return False
    return any(ch.isdigit() for ch in text)


def _scan(text: str, index: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Concepts named anywhere inside free text, phrase by phrase (whole words only)."""
    words = normalize(text).split()
    found: list[str] = []
    for size in range(min(len(words), _MAX_PHRASE_WORDS), 0, -1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if len(phrase) >= 3 and phrase in index:
                found.extend(index[phrase])
    return _unique(found)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


# --- loading and validation ---------------------------------------------------------------------


def _index(
    file: str, key: str, pairs: Iterable[tuple[str, tuple[str, ...]]]
) -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for name, concepts in pairs:
        normal = normalize(name)
        if not normal:
            raise DataError(file, key, f"name {name!r} has no letters or digits")
        if normal in index and index[normal] != concepts:
            raise DataError(
                file,
                key,
                f"name {name!r} means both {', '.join(index[normal])} and {', '.join(concepts)}",
            )
        index[normal] = concepts
    return index


def _optional_texts(node: Node, key: str) -> tuple[str, ...]:
    return node.texts(key) if node.has(key) else ()


def parse_medicines(
    doc: Node,
) -> tuple[
    dict[str, MedicineClass],
    dict[str, Ingredient],
    dict[str, tuple[str, ...]],
    dict[str, Term],
    Citation,
]:
    """Validate the medicine vocabulary; a problem raises DataError naming file and key."""
    citation = doc.citation()
    classes = {}
    for class_id, node in doc.table_items("classes"):
        if not _CODE_ID.match(class_id):
            node.fail("label", f"class id {class_id!r} must be lowercase snake_case")
        classes[class_id] = MedicineClass(class_id, node.text("label"), node.citation())
        node.close()
    ingredients: dict[str, Ingredient] = {}
    for node in doc.children("ingredients"):
        ingredient_id = node.text("id")
        if not _INGREDIENT_ID.match(ingredient_id):
            node.fail("id", f"{ingredient_id!r} must be a lowercase generic name")
        if ingredient_id in ingredients:
            node.fail("id", f"duplicate ingredient {ingredient_id!r}")
        rxnorm = node.opt_text("rxnorm")
        if rxnorm is not None and not _RXNORM.match(rxnorm):
            node.fail("rxnorm", f"{rxnorm!r} is not an RxNorm concept id")
        own = _optional_texts(node, "classes")
        for cls in own:
            if cls not in classes:
                node.fail("classes", f"unknown class {cls!r}")
        ingredients[ingredient_id] = Ingredient(
            ingredient_id,
            rxnorm,
            own,
            _optional_texts(node, "brands"),
            _optional_texts(node, "synonyms"),
        )
        node.close()
    products: dict[str, tuple[str, ...]] = {}
    for node in doc.opt_children("products"):
        name = node.text("name")
        parts = node.texts("ingredients")
        for part in parts:
            if part not in ingredients:
                node.fail("ingredients", f"unknown ingredient {part!r}")
        products[name] = parts
        node.close()
    allergens = {}
    for node in doc.opt_children("allergens"):
        allergen_id = node.text("id")
        if not _CODE_ID.match(allergen_id):
            node.fail("id", f"allergen id {allergen_id!r} must be lowercase snake_case")
        names = node.texts("names")
        allergens[allergen_id] = Term(allergen_id, names[0], names)
        node.close()
    doc.close()
    return classes, ingredients, products, allergens, citation


def parse_conditions(
    doc: Node,
) -> tuple[dict[str, Condition], dict[str, Term], dict[str, str], Citation]:
    """Validate the condition vocabulary; a problem raises DataError naming file and key."""
    citation = doc.citation()
    conditions: dict[str, Condition] = {}
    for node in doc.children("conditions"):
        condition_id = node.text("id")
        if not _CODE_ID.match(condition_id):
            node.fail("id", f"{condition_id!r} must be lowercase snake_case")
        if condition_id in conditions:
            node.fail("id", f"duplicate condition {condition_id!r}")
        icd10 = _optional_texts(node, "icd10")
        for index, prefix in enumerate(icd10):
            if not _ICD10_PREFIX.match(prefix):
                node.fail(f"icd10[{index}]", f"{prefix!r} is not an ICD-10-CM code or prefix")
        snomed = _optional_texts(node, "snomed")
        for index, code in enumerate(snomed):
            if not _SNOMED.match(code):
                node.fail(f"snomed[{index}]", f"{code!r} is not a SNOMED CT concept id")
        checklist = node.opt_text("checklist")
        if checklist is not None and checklist not in CHECKLISTS:
            node.fail("checklist", f"expected one of {', '.join(CHECKLISTS)}, got {checklist!r}")
        conditions[condition_id] = Condition(
            condition_id,
            node.text("label"),
            icd10,
            snomed,
            node.texts("synonyms"),
            checklist,
        )
        node.close()
    substances = {}
    for node in doc.children("substances"):
        substance_id = node.text("id")
        if not _CODE_ID.match(substance_id):
            node.fail("id", f"{substance_id!r} must be lowercase snake_case")
        substances[substance_id] = Term(substance_id, node.text("label"), node.texts("synonyms"))
        node.close()
    titles_node = doc.child("icd10_titles")
    titles = {}
    for code in titles_node.raw:
        title = titles_node.text(code)
        if not ICD10_PATTERN.match(code):
            titles_node.fail(code, "not an ICD-10-CM code")
        titles[code] = title
    titles_node.close()
    doc.close()
    return conditions, substances, titles, citation


def build_vocabulary(medicines: Node, conditions_doc: Node) -> Vocabulary:
    """Both vocabularies, validated and indexed; names must each mean one thing."""
    classes, ingredients, products, allergens, medicines_citation = parse_medicines(medicines)
    conditions, substances, titles, conditions_citation = parse_conditions(conditions_doc)
    medicine_index = _index(
        MEDICINES_FILE,
        "ingredients",
        [
            *(
                (name, (ingredient.id,))
                for ingredient in ingredients.values()
                for name in (ingredient.id, *ingredient.brands, *ingredient.synonyms)
            ),
            *products.items(),
        ],
    )
    condition_index = _index(
        CONDITIONS_FILE,
        "conditions",
        (
            (name, (condition.id,))
            for condition in conditions.values()
            for name in (condition.id, condition.label, *condition.synonyms)
        ),
    )
    snomed_pairs: dict[str, list[str]] = {}
    for condition in conditions.values():
        for code in condition.snomed:
            snomed_pairs.setdefault(code, []).append(condition.id)
    vocabulary = Vocabulary(
        classes=classes,
        ingredients=ingredients,
        products=products,
        allergens=allergens,
        conditions=conditions,
        substances=substances,
        icd10_titles=titles,
        medicines_citation=medicines_citation,
        conditions_citation=conditions_citation,
        medicine_index=medicine_index,
        condition_index=condition_index,
        substance_index=_index(
            CONDITIONS_FILE,
            "substances",
            ((name, (s.id,)) for s in substances.values() for name in (s.id, *s.names)),
        ),
        allergen_index=_index(
            MEDICINES_FILE,
            "allergens",
            ((name, (a.id,)) for a in allergens.values() for name in a.names),
        ),
        snomed_index={code: tuple(ids) for code, ids in snomed_pairs.items()},
    )
    for code in titles:
        if not vocabulary.conditions_for_icd10(code):
            raise DataError(CONDITIONS_FILE, f"icd10_titles.{code}", "maps to no condition")
    return vocabulary


@cache
def load_vocabulary() -> Vocabulary:
    """The medicine and condition vocabularies, validated once."""
    return build_vocabulary(read_document(MEDICINES_FILE), read_document(CONDITIONS_FILE))
