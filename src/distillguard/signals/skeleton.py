"""Template skeletons: what stays fixed when a campaign fills one prompt template thousands of times.

A skeleton is the normalized prompt (see ``normalize``) with its slots masked: code blocks, URLs,
e-mail addresses, dates, list items, quoted strings, runs of capitalized names and numbers become
placeholders such as ``<code>`` and ``<num>``; then case, punctuation and whitespace are folded.
Two fingerprints come out of it:

- ``skeleton_hash``: xxh3-64 of the skeleton, equal for prompts that differ only in slots, case,
  whitespace, punctuation, invisible characters or look-alike letters;
- ``lsh_keys``: MinHash band keys over word shingles of the skeleton, shared (with high
  probability) by light paraphrases of one skeleton. Skeletons shorter than ``MIN_LSH_TOKENS``
  tokens get no keys, so that short generic prompts ("hi", "translate this") never chain
  unrelated templates together; they still group by exact skeleton.

Every rule is written in the common subset of RE2 (Arrow) and Python ``re`` with ASCII classes,
so the column path (``skeleton_array``) and the single-prompt path (``skeleton_text``) agree.
The MinHash is computed with numpy over all shingles of a batch at once, on distinct skeletons.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from distillguard.signals.normalize import WHITESPACE_RE, lower_array
from distillguard.signals.regex import rewrite_pattern

# (pattern, replacement), applied in order on case-preserved normalized text. Only the name rule
# depends on case; every other rule matches upper and lower case alike.
NAME_RULE = r"\b[A-Z][a-z'-]+(?:[ \t]+[A-Z][a-z'-]+)+\b"
_ITEM = r"[ \t]*(?:[-*•]|\d{1,3}[.)])[ \t]+[^\n]*"
_UNICODE_QUOTES = r"“[^”\n]+”|「[^」\n]+」|«[^»\n]+»|‘[^’\n]+’"
_MONTHS = "(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-zA-Z]*\\.?"
SLOT_RULES: list[tuple[str, str]] = [
    (r"(?s)```.*?(?:```|$)", " <code> "),
    (r"`[^`\n]+`", " <code> "),
    (r"(?i:https?|ftp)://[^ \t\n\r\f\v<>\"']+|(?i:www)\.[^ \t\n\r\f\v<>\"']+", " <url> "),
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", " <email> "),
    (
        r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b"
        + _MONTHS
        + r"[ \t]+\d{1,2}(?i:st|nd|rd|th)?,?[ \t]+\d{4}\b|\b\d{1,2}[ \t]+"
        + _MONTHS
        + r",?[ \t]+\d{4}\b",
        " <date> ",
    ),
    # A list (two or more item lines) is one slot; a lone numbered line is ordinary text.
    (r"(?m)^" + _ITEM + r"(?:\n" + _ITEM + r")+", " <item> "),
    (r"\"[^\"\n]+\"", " <q> "),
    (_UNICODE_QUOTES, " <q> "),
    (r"\B'[^'\n]+'", " <q> "),  # an opening ' not glued to a word: not "don't ... it's"
    (NAME_RULE, " <name> "),
    (r"[-+]?\d+(?:[.,:]\d+)*%?", " <num> "),
]
# After lower-casing: punctuation goes (placeholders keep their angle brackets), repeated
# placeholders collapse, CJK characters become tokens of their own for shingling.
_PUNCT = r"[!-/:-;=?-@\[-`{-~]+"
_WIDE_PUNCT = r"[，。！？、；：“”‘’（）《》【】…—·「」『』]+"
_CJK = "([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af])"
# RE2 has no back-references in patterns, hence one rule per placeholder.
_REPEATS = [(f"{p}(?: {p})+", p) for p in ("<item>", "<num>", "<q>", "<name>", "<code>")]
_ANY_REPEAT = "<(?:item|num|q|name|code)> <(?:item|num|q|name|code)>"
FOLD_RULES: list[tuple[str, str]] = [
    (_PUNCT, " "),
    (_WIDE_PUNCT, " "),
    (_CJK, " \\1 "),
    (WHITESPACE_RE, " "),
    *_REPEATS,
]
# Rules that can only match non-ASCII text: the column path runs them on non-ASCII rows alone.
_NON_ASCII_ONLY = {_UNICODE_QUOTES, _WIDE_PUNCT, _CJK}

# Sentence boundaries (. ! ? ; : before a space, line breaks, CJK full stops) are replaced by a
# control character that no fold rule touches, so one fold yields both the skeleton (marks
# dropped) and its sentences (split at the marks) for ``frames``. A MARK already in a prompt is
# removed first. Removing marks can make placeholders adjacent, so repeats collapse after it.
MARK = "\x01"
SENTENCE_SPLIT = r"[.!?;:]*\n[ \t\n]*|[.!?;:]+[ \t]+|[。！？；：]+"
UNMARK = "(?: ?\x01)+ ?"

_SLOT_RES = [(rewrite_pattern(p), r) for p, r in SLOT_RULES]
_SPLIT_RX = rewrite_pattern(SENTENCE_SPLIT)
_UNMARK_RX = rewrite_pattern(UNMARK)
_REPEAT_RES = [(rewrite_pattern(p), r) for p, r in _REPEATS]
_NAME_RX = rewrite_pattern(NAME_RULE)
_FOLD_RES = [(rewrite_pattern(p), r) for p, r in FOLD_RULES]

# MinHash / LSH geometry: NUM_PERM = BANDS * ROWS. For two skeletons with word-bigram Jaccard
# similarity s, each band key is equal with probability s**ROWS; templates.py links skeletons
# that share at least two of the BANDS keys. Chosen on the dev half of the corpora (docs/signals.md).
SHINGLE = 2
BANDS = 16
ROWS = 4
NUM_PERM = BANDS * ROWS
MIN_LSH_TOKENS = 8
_rng = np.random.default_rng(20260101)  # fixed: permutations must be identical on every engine
_PERM_A = (_rng.integers(1, 2**63, NUM_PERM, dtype=np.uint64) | np.uint64(1)).reshape(-1, 1)
_PERM_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64).reshape(-1, 1)
del _rng
_CHUNK = 1 << 13  # shingles per signature block: keeps the (NUM_PERM, _CHUNK) temporaries in cache


# A prompt where most words start with a capital letter (shouted, title-cased) or with many
# case flips inside words (rAnDoM cAsE) is case-tricked: it is lower-cased before slot masking
# so that it is not taken for one long name. Names in it then stay words: case tricks and
# capitalized-name slots cannot both be undone from the text alone.
# Counted with Arrow's count_substring_regex, which restarts the search after each match without
# the preceding context: the patterns must not rely on \b or ^.
_WORD_START = r"[A-Za-z]+"
_CAP_START = r"[A-Z][A-Za-z]*"
_CASE_FLIP = r"[a-z][A-Z]"
_MIN_WORDS_FOR_CASE_CHECK = 4
_COUNT_RES = [rewrite_pattern(p) for p in (_WORD_START, _CAP_START, _CASE_FLIP)]


def _case_tricked(words: Any, caps: Any, flips: Any) -> Any:
    """Works on ints (one prompt) and on numpy arrays (a column) alike."""
    return (words >= _MIN_WORDS_FOR_CASE_CHECK) & ((2 * caps > words) | ((flips >= 3) & (5 * flips > words)))


def masked_text(normalized: str) -> str:
    """One normalized prompt with its slots masked and lower-cased, punctuation still in place
    (the sentence boundaries of ``frames`` come from it)."""
    if _NAME_RX.search(normalized):
        counts = [len(rx.findall(normalized)) for rx in _COUNT_RES]
        if _case_tricked(*counts):
            normalized = normalized.lower()
    for rx, rep in _SLOT_RES:
        normalized = rx.sub(rep, normalized)
    return normalized.lower()


def fold_text(masked: str) -> str:
    """Punctuation, spacing and repeated placeholders folded: the skeleton of masked text."""
    for rx, rep in _FOLD_RES:
        masked = rx.sub(rep, masked)
    return masked.strip()


def mark_text(masked: str) -> str:
    """Sentence boundaries of masked text replaced by ``MARK`` (kept by folding)."""
    return _SPLIT_RX.sub(" " + MARK + " ", masked.replace(MARK, ""))


def unmark_text(marked: str) -> str:
    """The skeleton from a folded, marked text: marks dropped, repeated placeholders collapsed."""
    if MARK not in marked:
        return marked
    text = _UNMARK_RX.sub(" ", marked).strip()
    if "> <" in text:  # placeholders made adjacent by dropping a mark
        for rx, rep in _REPEAT_RES:
            text = rx.sub(rep, text)
    return text


def marked_skeleton_text(normalized: str) -> str:
    """The skeleton of one normalized prompt with its sentence boundaries marked."""
    return fold_text(mark_text(masked_text(normalized)))


def skeleton_text(normalized: str) -> str:
    """Skeleton of one normalized prompt (output of ``normalize.normalize_text``)."""
    return unmark_text(marked_skeleton_text(normalized))


def _where(arr: pa.Array, mask: pa.Array, fn: Any) -> pa.Array:
    """Apply the column function ``fn`` to the rows selected by ``mask`` only."""
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(pc.filter(arr, mask)))


def _replace(arr: pa.Array, pat: str, rep: str, non_ascii: pa.Array) -> pa.Array:
    if pat in _NON_ASCII_ONLY:
        return _where(arr, non_ascii, lambda a: pc.replace_substring_regex(a, pat, rep))
    return pc.replace_substring_regex(arr, pat, rep)


def _lower_if_case_tricked(arr: pa.Array) -> pa.Array:
    counts = [
        pc.count_substring_regex(arr, p).to_numpy(zero_copy_only=False)
        for p in (_WORD_START, _CAP_START, _CASE_FLIP)
    ]
    return pc.if_else(pa.array(_case_tricked(*counts)), lower_array(arr), arr)


def mask_array(normalized: pa.Array) -> pa.Array:
    """Column form of ``masked_text``. The case-trick check runs on rows with a name-like run
    only, found with one cheap scan."""
    arr = _where(normalized, pc.match_substring_regex(normalized, NAME_RULE), _lower_if_case_tricked)
    # Masking never makes an ASCII row non-ASCII, so this mask stays a superset of the rows that
    # the non-ASCII-only rules can change.
    non_ascii = pc.invert(pc.string_is_ascii(arr))
    for pat, rep in SLOT_RULES:
        arr = _replace(arr, pat, rep, non_ascii)
    return lower_array(arr)


def fold_array(masked: pa.Array) -> pa.Array:
    """Column form of ``fold_text``. CJK tokens and repeated placeholders are handled on the
    rows that have them only."""
    non_ascii = pc.invert(pc.string_is_ascii(masked))
    arr = masked
    for pat, rep in FOLD_RULES[:4]:
        arr = _replace(arr, pat, rep, non_ascii)

    def collapse(a: pa.Array) -> pa.Array:
        for pat, rep in _REPEATS:
            a = pc.replace_substring_regex(a, pat, rep)
        return a

    arr = _where(arr, pc.match_substring_regex(arr, _ANY_REPEAT), collapse)
    return pc.utf8_trim_whitespace(arr)


def marked_skeleton_array(normalized: pa.Array) -> pa.Array:
    """Column form of ``marked_skeleton_text``: skeletons with sentence marks (for ``frames``)."""
    masked = pc.replace_substring(mask_array(normalized), MARK, "")
    return fold_array(pc.replace_substring_regex(masked, SENTENCE_SPLIT, " " + MARK + " "))


def unmark_array(marked: pa.Array) -> pa.Array:
    """Column form of ``unmark_text``."""
    arr = pc.utf8_trim_whitespace(pc.replace_substring_regex(marked, UNMARK, " "))

    def collapse(a: pa.Array) -> pa.Array:
        for pat, rep in _REPEATS:
            a = pc.replace_substring_regex(a, pat, rep)
        return a

    return _where(arr, pc.match_substring_regex(arr, _ANY_REPEAT), collapse)


def skeleton_array(normalized: pa.Array) -> pa.Array:
    """Skeletons of a column of normalized prompts; same result as ``skeleton_text`` per row."""
    return unmark_array(marked_skeleton_array(normalized))


def skeleton_hash(skeleton: str) -> str | None:
    """Stable 16-hex-digit hash of a skeleton; None for an empty one."""
    return xxhash.xxh3_64_hexdigest(skeleton.encode()) if skeleton else None


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads combined word hashes over all 64 bits."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def minhash_signatures(skeletons: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of distinct skeletons over ``SHINGLE``-word shingles.

    Returns ``(sig, ok)``: ``sig`` is uint32 of shape (n, NUM_PERM); ``ok`` marks skeletons with at
    least ``MIN_LSH_TOKENS`` tokens (the others' rows are meaningless and get no LSH keys).
    """
    n = len(skeletons)
    sig = np.zeros((n, NUM_PERM), dtype=np.uint32)
    if n == 0:
        return sig, np.zeros(0, dtype=bool)
    words = pc.split_pattern(pc.fill_null(skeletons, ""), " ")
    lengths = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    ok = lengths >= MIN_LSH_TOKENS
    if not ok.any():
        return sig, ok
    enc = pc.dictionary_encode(pc.list_flatten(words))
    vocab = np.fromiter(
        (xxhash.xxh3_64_intdigest(w.encode()) for w in enc.dictionary.to_pylist()),
        dtype=np.uint64,
        count=len(enc.dictionary),
    )
    word_h = vocab[enc.indices.to_numpy(zero_copy_only=False)]
    owner = np.repeat(np.arange(n), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    pos = np.arange(len(word_h)) - starts[owner]
    keep = ok[owner] & (pos <= lengths[owner] - SHINGLE)
    first = np.nonzero(keep)[0]
    sh = word_h[first]
    with np.errstate(over="ignore"):
        for j in range(1, SHINGLE):
            sh = _mix(sh * np.uint64(0x9E3779B97F4A7C15) + word_h[first + j])
        sh_owner = owner[first]
        mins = np.full((NUM_PERM, n), np.iinfo(np.uint32).max, dtype=np.uint32)
        buf = np.empty((NUM_PERM, _CHUNK), dtype=np.uint64)  # reused: no temporaries per block
        for lo in range(0, len(sh), _CHUNK):
            block = sh[lo : lo + _CHUNK]
            own = sh_owner[lo : lo + _CHUNK]
            hv = buf[:, : len(block)]
            np.multiply(_PERM_A, block, out=hv)
            hv += _PERM_B
            hv >>= np.uint64(32)  # (a * x + b) mod 2**64, high half: one permutation per row
            seg = np.concatenate(([0], np.nonzero(np.diff(own))[0] + 1))
            red = np.minimum.reduceat(hv, seg, axis=1).astype(np.uint32)
            ids = own[seg]
            mins[:, ids] = np.minimum(mins[:, ids], red)
    sig[:] = mins.T
    return sig, ok


def band_keys(sig: np.ndarray, ok: np.ndarray) -> pa.Array:
    """LSH band keys per signature row as list<int64>; empty when not ``ok``.

    A key is a 64-bit hash of (band index, the band's ROWS values), so keys of different bands
    never meet. Integers, not text: the global steps group millions of them (an exchange has
    BANDS), and signed, as every engine's columns can hold them (Spark has no unsigned type).
    """
    n = sig.shape[0]
    bands = sig.reshape(n, BANDS, ROWS).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = np.broadcast_to(np.arange(1, BANDS + 1, dtype=np.uint64), (n, BANDS)).copy()
        for r in range(ROWS):
            acc = _mix(acc * np.uint64(0x100000001B3) + bands[:, :, r])
    keys = pa.array(acc[ok].ravel().view(np.int64), pa.int64())
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.where(ok, BANDS, 0))
    return pa.ListArray.from_arrays(pa.array(offsets), keys)
