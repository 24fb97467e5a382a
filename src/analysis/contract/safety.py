"""Was als sicher gilt: Standortkennungen als Ordnernamen, Tabellenzellen ohne Formeln und
Spaltennamen ohne Personenbezug.

The one place that decides these three questions for the whole package: ingestion asks it
about every ``standort_id`` and every header, the report batch about every folder it writes,
and every writer of an ``.xlsx`` or ``.csv`` file about every cell. The word lists and the
site-id rule themselves are part of the data contract and live in ``schema``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from analysis.contract.schema import (
    ALL_SITES,
    INSTITUTION_WORDS,
    PERSONAL_DATA_ABBREVIATIONS,
    PERSONAL_DATA_STEMS,
    PERSONAL_NAME_STEM,
    RESERVED_SITE_IDS,
    SITE_ID_MAX_LENGTH,
    SITE_ID_PATTERN,
)
from analysis.errors import FhError

# --------------------------------------------------------------------------- site ids

_UMLAUTS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"))
_SITE_ID = re.compile(SITE_ID_PATTERN)
SITE_ID_RULE = (
    "Kleinbuchstaben a–z, Ziffern, _ und -, am Anfang ein Buchstabe oder eine Ziffer, "
    f"höchstens {SITE_ID_MAX_LENGTH} Zeichen"
)


def canonical_site_id(text: str) -> str:
    """A ``standort_id`` as stored: trimmed, lower case, umlauts folded (``Büchel`` -> ``buechel``)."""
    site = text.strip().lower()
    for umlaut, folded in _UMLAUTS:
        site = site.replace(umlaut, folded)
    return site


def _shown(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def site_id_problem(text: str) -> str | None:
    """Why ``text`` cannot be a ``standort_id`` (German, for the rejects file), or ``None``."""
    site = canonical_site_id(text)
    if site in RESERVED_SITE_IDS:
        words = ", ".join(RESERVED_SITE_IDS)
        return f"„{_shown(text)}“ ist ein reserviertes Wort ({words}) und keine Standortkennung"
    if len(site) > SITE_ID_MAX_LENGTH:
        return (
            f"„{_shown(text)}“ ist mit {len(site)} Zeichen als Standortkennung zu lang "
            f"(höchstens {SITE_ID_MAX_LENGTH})"
        )
    if not _SITE_ID.fullmatch(site):
        return f"„{_shown(text)}“ ist keine gültige Standortkennung ({SITE_ID_RULE})"
    return None


def site_folder(site: str) -> str:
    """The folder (and URL part) of a site's reports; refuses what could leave the folder.

    Ingestion admits only ids that keep the rule, so this fails only for processed data that
    did not come from this version's ``aufbereiten``.
    """
    if site == ALL_SITES or (site == canonical_site_id(site) and site_id_problem(site) is None):
        return site
    raise FhError(
        f"Standortkennung „{_shown(site)}“ in den aufbereiteten Daten ist als Ordnername nicht "
        f"zulässig ({SITE_ID_RULE}; nicht {', '.join(RESERVED_SITE_IDS)}). Bitte die Rohdaten "
        "mit `fh-analytik aufbereiten` neu aufbereiten; dabei wird die Zeile abgelehnt."
    )


# --------------------------------------------------------------------------- spreadsheet cells

# OWASP "CSV injection": a cell starting with one of these is a formula to Excel and
# LibreOffice (tab and carriage return because importers strip them and look again).
_FORMULA_START = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*|[.,]\d+)(?:[eE][+-]?\d+)?")


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula? Plain numbers (``-3``, ``-2,5``) not."""
    if not text:
        return False
    first = unicodedata.normalize("NFKC", text[0])[:1]  # a full-width ＝ is an = to Excel
    return first in _FORMULA_START and not _NUMBER.fullmatch(text.strip())


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: formula-like text gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def defuse_excel_cell(cell: Any) -> None:
    """Make an openpyxl cell that holds formula-like text a text cell.

    The value stays as it was (``=HYPERLINK(…)`` is shown, not run); the cell is stored as a
    string with Excel's quote prefix, so editing it in Excel does not turn it into a formula.
    Numbers stay numbers.
    """
    value = cell.value
    if isinstance(value, str) and (cell.data_type == "f" or is_formula_like(value)):
        cell.data_type = "s"
        cell.quotePrefix = True


# --------------------------------------------------------------------------- personal data

# Letters of other scripts that look like Latin ones (Unicode confusables, the ones that
# matter for German and English headers). Upper case before case folding, because e.g.
# Cyrillic Н looks like H but its lower case н does not look like h.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
        "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D",
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ь": "b", "п": "n",
        "г": "r", "и": "u",
        # Greek
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
        "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
        "ο": "o", "ρ": "p", "σ": "o", "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        "μ": "u",
        # Latin look-alikes NFKC keeps
        "ı": "i", "ȷ": "j", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y", "ᴀ": "a", "ᴄ": "c",
        "ᴅ": "d", "ᴇ": "e", "ᴋ": "k", "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ᴛ": "t", "ᴜ": "u",
        "ᴠ": "v", "ᴡ": "w", "ᴢ": "z", "ʀ": "r", "ɪ": "i", "ʜ": "h", "ʟ": "l", "ɴ": "n",
        "ꜱ": "s", "ɢ": "g", "ʙ": "b", "ꞯ": "q",
    }
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-zäöüß])(?=[A-ZÄÖÜ])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_SUFFIX = r"(?:s|n|en|es)?"
_WORDS = "|".join(sorted(INSTITUTION_WORDS, key=len, reverse=True))
_INSTITUTION_BEFORE = re.compile(rf"(?:{_WORDS}){_SUFFIX}$")
_INSTITUTION_AFTER = re.compile(rf"(?:der|des|dem|of|ofthe)(?:{_WORDS})")


def _strip_marks(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def header_forms(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A header reduced for the personal-data check: ``(compact, words)`` per spelling.

    Unicode NFKC (full-width and mathematical letters, ligatures), invisible characters such
    as soft hyphens and zero-width spaces removed, look-alike letters of other scripts
    folded, case folded, camel case split into words (and not), then two spellings of
    umlauts (``ä`` -> ``ae`` and ``ä`` -> ``a``). ``words`` are split at anything that is not a
    letter or digit (and runs of single letters joined: ``T.e.l.`` -> ``tel``); ``compact``
    is the words joined.
    """
    t = unicodedata.normalize("NFKC", text)
    t = "".join(ch for ch in t if unicodedata.category(ch) not in ("Cf", "Cc", "Co", "Cs"))
    t = t.translate(_CONFUSABLES)
    variants: list[str] = []
    # Camel case split and not split: `TelNr` has a word `tel`, a random `tEl` has none.
    for cased in dict.fromkeys((_CAMEL.sub(" ", t), t)):
        lower = cased.casefold().translate(_CONFUSABLES)
        folded = lower
        for umlaut, replacement in _UMLAUTS:
            folded = folded.replace(umlaut, replacement)
        variants += [_strip_marks(folded), _strip_marks(lower)]
    forms: list[tuple[str, tuple[str, ...]]] = []
    for variant in dict.fromkeys(variants):
        words = [w for w in _NOT_ALNUM.split(variant) if w]
        # Runs of single letters are a spaced-out word too: "T.e.l." -> t, e, l -> tel.
        runs = re.findall(r"(?:(?<= )|^)(?:[a-z] )+[a-z](?= |$)", " ".join(words))
        forms.append(("".join(words), (*words, *(r.replace(" ", "") for r in runs))))
    return tuple(forms)


def _person_name(compact: str) -> bool:
    """``name`` that is not the name of an institution, place or thing."""
    start = 0
    while (i := compact.find(PERSONAL_NAME_STEM, start)) >= 0:
        before, after = compact[:i], compact[i + len(PERSONAL_NAME_STEM) :]
        if not (_INSTITUTION_BEFORE.search(before) or _INSTITUTION_AFTER.match(after)):
            return True
        start = i + 1
    return False


@lru_cache(maxsize=4096)
def personal_data_hit(header: str) -> str | None:
    """The stem or abbreviation by which ``header`` names personal data, or ``None``.

    >>> personal_data_hit("Geb.-Datum"), personal_data_hit("Standortname")
    ('gebdatum', None)
    """
    for compact, words in header_forms(header):
        if not compact:
            continue
        for stem in PERSONAL_DATA_STEMS:
            if stem in compact:
                return stem
        if _person_name(compact):
            return PERSONAL_NAME_STEM
        for word in words:
            if word in PERSONAL_DATA_ABBREVIATIONS:
                return word
    return None


def is_personal_data(header: str) -> bool:
    """Does a column header name personal data (names, birth dates, addresses, phone, e-mail,
    insurance or account numbers) in any spelling or abbreviation?"""
    return personal_data_hit(header) is not None
