"""Who may sign a consent: the patient, or a named representative with their relationship.

The typed signature must be the signer's own name: the patient's legal (or preferred) given name
and family name, or the representative's name as recorded. Case, accents, punctuation and extra
spaces do not matter; a different person's name does.
"""

import re
import unicodedata

from django.db import models


class RepresentativeRelationship(models.TextChoices):
    """Who may sign for a patient who cannot sign themselves."""

    PARENT = "parent", "Parent"
    LEGAL_GUARDIAN = "legal_guardian", "Legal guardian"
    HEALTHCARE_PROXY = "healthcare_proxy", "Healthcare proxy / power of attorney"
    CONSERVATOR = "conservator", "Court-appointed conservator"


def name_words(name: str) -> list[str]:
    """The words of a name, folded: 'José  O'Brien-Díaz' → ['jose', 'obrien', 'diaz']."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    folded = re.sub(r"['’`.]", "", folded)
    return [word for word in re.split(r"[^a-z0-9]+", folded) if word]


def signature_names_match(*, typed: str, given_names: list[str], family_name: str) -> bool:
    """Whether the typed signature holds one of the given names and the whole family name."""
    typed_words = name_words(typed)
    family = name_words(family_name)
    if not typed_words or not family:
        return False
    has_family = any(
        typed_words[i : i + len(family)] == family
        for i in range(len(typed_words) - len(family) + 1)
    )
    givens = [name_words(given) for given in given_names if given.strip()]
    has_given = any(words and set(words) <= set(typed_words) for words in givens)
    return has_family and has_given


def representative_name_matches(*, typed: str, representative_name: str) -> bool:
    """Whether the typed signature is the representative's recorded name (every word of it)."""
    typed_words = name_words(typed)
    wanted = name_words(representative_name)
    return len(wanted) >= 2 and typed_words == wanted
