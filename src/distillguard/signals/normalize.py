"""Text normalization that defeats cheap evasions before any signal is measured.

Harvest campaigns vary one template with case, whitespace, invisible characters and look-alike
letters so that naive exact matching sees thousands of "different" prompts. Every signal is
therefore computed on text that went through the same steps:

1. Unicode NFKC (folds full-width forms, ligatures, mathematical alphanumerics, odd spaces);
2. removal of invisible format characters (zero-width, bidi controls, soft hyphen, variation
   selectors, tag characters);
3. folding of confusable letters (Cyrillic, Greek, Armenian, Cherokee look-alikes of Latin
   letters) to their Latin counterparts;
4. lower case and collapsed whitespace (``fold_case_space``).

Two implementations give the same result: ``normalize_array`` over a whole Arrow column (the map
step) and ``normalize_text`` over one string (the gateway's fast path). Steps 2-3 are a
``str.translate`` applied only to the rows that contain such a character, found with one RE2 scan,
so ordinary ASCII traffic never enters Python.
"""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

from distillguard.signals.regex import rewrite_pattern

# Invisible format characters used to split words without changing how text looks.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0"
)
_INVISIBLE_RANGES = "\ufe00-\ufe0f\U000e0000-\U000e007f"  # variation selectors, tag characters

# Look-alikes of Latin letters and digits that NFKC leaves alone (from Unicode's confusables data,
# restricted to the single-letter mappings seen in homograph evasion).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "ѕ": "s", "т": "t", "у": "y", "х": "x",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ь": "b", "ɡ": "g", "г": "r", "п": "n", "ո": "n",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ї": "I", "Ј": "J", "Ԛ": "Q",
    "Ԝ": "W", "Ӏ": "I", "Ь": "b", "З": "3",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "ι": "i", "κ": "k", "ε": "e",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "ϲ": "c", "ϳ": "j", "Ϲ": "C",
    # Armenian, Cherokee and Latin extensions
    "օ": "o", "ս": "u", "հ": "h", "զ": "q", "ց": "g", "Ꭺ": "A", "Ᏼ": "B", "Ꮯ": "C", "Ꭼ": "E",
    "Ꮋ": "H", "Ꮶ": "K", "Ꮇ": "M", "Ꮲ": "P", "Ꮪ": "S", "Ꭲ": "T", "ı": "i", "ȷ": "j", "ɑ": "a",
    "ɩ": "i", "ʏ": "y", "ꓲ": "I", "ꓳ": "O",
}  # fmt: skip

_TRANSLATE = {ord(c): None for c in _INVISIBLE}
_TRANSLATE.update({cp: None for cp in [*range(0xFE00, 0xFE10), *range(0xE0000, 0xE0080)]})
_TRANSLATE.update({ord(k): v for k, v in _CONFUSABLES.items()})

# One RE2/Python-compatible class of every character that step 2-3 touches.
_SPECIAL_CLASS = "[" + _INVISIBLE + _INVISIBLE_RANGES + "".join(sorted(_CONFUSABLES)) + "]"
_SPECIAL_RE = rewrite_pattern(_SPECIAL_CLASS)

# Whitespace with ASCII semantics, so that Python's re and Arrow's RE2 agree (NFKC has already
# turned exotic spaces into U+0020). Only runs that are not one plain space are rewritten: far
# fewer matches to replace.
WHITESPACE_RE = r"[ \t\n\r\f\v]{2,}|[\t\n\r\f\v]"
_WHITESPACE = rewrite_pattern(WHITESPACE_RE)


# Very long texts (pasted documents) are scored on their head and tail: instructions sit at
# either end, and the cost per request stays bounded at the gateway.
MAX_SCORED_CHARS = 16_000
_HALF = MAX_SCORED_CHARS // 2


def clip_text(text: str | None) -> str | None:
    """Head and tail of a text longer than ``MAX_SCORED_CHARS``, joined by a newline."""
    if text is None or len(text) <= MAX_SCORED_CHARS:
        return text
    return text[:_HALF] + "\n" + text[-_HALF:]


def clip_array(arr: pa.Array) -> pa.Array:
    """``clip_text`` over a string column."""
    long_rows = pc.greater(pc.utf8_length(arr), MAX_SCORED_CHARS)
    if not pc.any(long_rows).as_py():
        return arr
    clipped = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(arr, 0, _HALF), pc.utf8_slice_codeunits(arr, -_HALF), "\n"
    )
    return pc.if_else(long_rows, clipped, arr)


def fold_chars(text: str) -> str:
    """Strip invisible characters and fold confusable letters (steps 2-3) in one string."""
    return text.translate(_TRANSLATE)


def normalize_text(text: str | None) -> str:
    """Steps 1-3 for one string (case and whitespace kept): the fast path's twin of
    ``normalize_array``. None becomes the empty string."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if _SPECIAL_RE.search(text):
        text = fold_chars(text)
    return text


def fold_case_space(text: str) -> str:
    """Step 4 for one string: lower case and single spaces, trimmed."""
    return _WHITESPACE.sub(" ", text.lower()).strip()


def normalize_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Steps 1-3 over a string column; nulls become empty strings. Same output as
    ``normalize_text`` applied row by row."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.string())
    arr = pc.fill_null(arr.cast(pa.string()), "")
    arr = pc.utf8_normalize(arr, form="NFKC")
    special = pc.match_substring_regex(arr, _SPECIAL_CLASS)
    if pc.any(special).as_py():
        idx = pc.indices_nonzero(special)
        folded = pa.array([fold_chars(s) for s in pc.take(arr, idx).to_pylist()], pa.string())
        arr = pc.replace_with_mask(arr, special, folded)
    return arr


def lower_array(arr: pa.Array) -> pa.Array:
    """Unicode lower case; ASCII rows take Arrow's much cheaper ASCII kernel."""
    ascii_rows = pc.string_is_ascii(arr)
    lowered = pc.ascii_lower(arr)
    if pc.all(ascii_rows).as_py():
        return lowered
    other = pc.invert(ascii_rows)
    return pc.replace_with_mask(lowered, other, pc.utf8_lower(pc.filter(arr, other)))


def fold_case_space_array(arr: pa.Array) -> pa.Array:
    """Step 4 over a string column."""
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(lower_array(arr), WHITESPACE_RE, " "))
