"""Frame fingerprints: the fixed parts of a prompt that wraps varying content.

A campaign often puts one fixed instruction around harvested content ("Solve the following
problem. Before giving the final answer, write out ... Problem: <a corpus question>"). Its
skeletons differ as much as the questions do, so neither ``skeleton_hash`` nor the MinHash keys
group it. What its prompts share is the *frame*: the same sentences and the same leading and
trailing words. The map step records candidate frame parts of every prompt as ``frame_keys``;
the global step (``frame_links``, called by ``templates.group_skeletons``) keeps the parts that
recur across many distinct skeletons and groups prompts whose recurring parts make up the same,
long enough fixed text.

A key is a signed 64-bit integer: a hash of the part's words in the high bits, the kind of part
(sentence, head, tail) in bits 6-7 and its word count (capped at 63) in bits 0-5, so that the
global step can weigh a part without looking at any text. Parts are taken from the skeleton
with its sentence boundaries marked (``skeleton.marked_skeleton_array``: slots already replaced
by placeholders, case and punctuation folded), so the slot values of a template do not split its
frame, and the map step folds each prompt once for both fingerprints:

- sentence keys: each sentence or line of at least ``MIN_SENTENCE_WORDS`` words, from the first
  and last ``EDGE_SENTENCES`` sentences (instructions sit at either end of a prompt);
- head and tail keys: the first and last k words of the skeleton for every k in ``EDGE_WORDS``
  shorter than the skeleton, so a fixed prefix or suffix that is not a sentence of its own still
  shows, and its length is known to the nearest step.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from distillguard.signals.skeleton import MARK

MIN_SENTENCE_WORDS = 4
EDGE_SENTENCES = 8
EDGE_WORDS = (6, 8, 12, 16, 24, 32)
KIND_SENTENCE, KIND_HEAD, KIND_TAIL = 0, 1, 2
_WORD_BITS = 6
_MAX_WORDS = (1 << _WORD_BITS) - 1
_LOW_BITS = np.uint64(0xFF)
# Odd multipliers that give each kind of part its own word-position hashes.
_SALT = {
    KIND_SENTENCE: np.uint64(0x9E3779B97F4A7C15),
    KIND_HEAD: np.uint64(0xC2B2AE3D27D4EB4F),
    KIND_TAIL: np.uint64(0x165667B19E3779F9),
}

FRAME_KEYS_TYPE = pa.list_(pa.int64())


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _key(h: np.ndarray, kind: int, words: np.ndarray) -> np.ndarray:
    """Hash bits, kind and word count packed into one int64 key."""
    low = (np.uint64(kind) << np.uint64(_WORD_BITS)) | np.minimum(words, _MAX_WORDS).astype(np.uint64)
    return ((h & ~_LOW_BITS) | low).view(np.int64)


def key_kind(keys: np.ndarray) -> np.ndarray:
    """Kind of each key: KIND_SENTENCE, KIND_HEAD or KIND_TAIL."""
    return (keys.view(np.uint64) >> np.uint64(_WORD_BITS)) & np.uint64(3)


def key_words(keys: np.ndarray) -> np.ndarray:
    """Word count of each key's part (capped at 63)."""
    return (keys.view(np.uint64) & np.uint64(_MAX_WORDS)).astype(np.int64)


def _list_positions(lists: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner row, position in its list, list length) of every flattened element."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else np.zeros(0, np.int64)
    return owner, np.arange(len(owner)) - starts[owner], lengths


def _prefix(values: np.ndarray) -> np.ndarray:
    """Wrapping prefix sums with a leading 0: the sum of ``values[lo:hi]`` is p[hi] - p[lo]."""
    out = np.zeros(len(values) + 1, np.uint64)
    np.cumsum(values, dtype=np.uint64, out=out[1:])
    return out


def frame_keys_array(marked: pa.Array) -> pa.Array:
    """``frame_keys`` (list<int64>) of each prompt from its marked skeleton
    (``skeleton.marked_skeleton_array``). Empty for empty prompts; deterministic.

    A part's hash is a wrapping sum over its words of a mix of (word hash, position in the
    part): order-sensitive, and every head, tail and sentence comes out of one prefix sum.
    """
    n = len(marked)
    if n == 0:
        return pa.array([], FRAME_KEYS_TYPE)
    tokens = pc.split_pattern(pc.fill_null(marked, ""), " ")
    owner, _, _ = _list_positions(tokens)
    enc = pc.dictionary_encode(pc.list_flatten(tokens))
    vocab = enc.dictionary.to_pylist()
    vh = np.fromiter((xxhash.xxh3_64_intdigest(w.encode()) for w in vocab), np.uint64, len(vocab))
    tid = enc.indices.to_numpy(zero_copy_only=False)
    is_mark = np.array([w == MARK for w in vocab], bool)[tid] if len(vocab) else np.zeros(0, bool)
    is_word = ~is_mark & (np.array([w != "" for w in vocab], bool)[tid] if len(vocab) else is_mark)
    # Sentence number of every token: a new sentence at each mark and at each row's start.
    row_start = np.ones(len(owner), bool)
    row_start[1:] = owner[1:] != owner[:-1]
    sentence = np.cumsum(is_mark | row_start)
    w, own, sent = vh[tid[is_word]], owner[is_word], sentence[is_word]
    rlen = np.bincount(own, minlength=n)
    rstart = np.concatenate(([0], np.cumsum(rlen)[:-1]))
    rend = rstart + rlen
    pos = np.arange(len(w)) - rstart[own]
    owners, keys = [], []
    with np.errstate(over="ignore"):
        # Sentences: runs of words with one sentence number.
        head = np.ones(len(w), bool)
        head[1:] = sent[1:] != sent[:-1]
        lo = np.nonzero(head)[0]
        hi = np.append(lo[1:], len(w))
        s_len, s_row = hi - lo, own[lo]
        s_pos = np.arange(len(w)) - np.repeat(lo, s_len)
        ps = _prefix(_mix(w * _SALT[KIND_SENTENCE] + s_pos.astype(np.uint64)))
        s_hash = ps[hi] - ps[lo]
        first = np.concatenate(([0], np.cumsum(np.bincount(s_row, minlength=n))[:-1]))
        rank = np.arange(len(lo)) - first[s_row]
        count = np.bincount(s_row, minlength=n)[s_row]
        keep = (s_len >= MIN_SENTENCE_WORDS) & ((rank < EDGE_SENTENCES) | (rank >= count - EDGE_SENTENCES))
        owners.append(s_row[keep])
        keys.append(_key(_mix(s_hash[keep]), KIND_SENTENCE, s_len[keep]))
        # Heads and tails: the first / last k words of the skeleton, when it has more than k.
        ph = _prefix(_mix(w * _SALT[KIND_HEAD] + pos.astype(np.uint64)))
        pt = _prefix(_mix(w * _SALT[KIND_TAIL] + (rlen[own] - 1 - pos).astype(np.uint64)))
        for k in EDGE_WORDS:
            rows = np.nonzero(rlen > k)[0]
            kk = np.full(len(rows), k)
            h = ph[rstart[rows] + k] - ph[rstart[rows]]
            t = pt[rend[rows]] - pt[rend[rows] - k]
            owners += [rows, rows]
            keys += [_key(_mix(h), KIND_HEAD, kk), _key(_mix(t), KIND_TAIL, kk)]
    owner = np.concatenate(owners)
    key = np.concatenate(keys)
    # One key per (prompt, part), sorted: the list is a set and compares equal across batches.
    order = np.lexsort((key, owner))
    owner, key = owner[order], key[order]
    distinct = np.ones(len(key), bool)
    distinct[1:] = (owner[1:] != owner[:-1]) | (key[1:] != key[:-1])
    owner, key = owner[distinct], key[distinct]
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.bincount(owner, minlength=n))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(key, pa.int64()))


# Global step defaults (chosen on the dev half of the corpora with the dev wrappers and openings
# of tests/signals/data/frames.yaml; see docs/signals.md).
MIN_FRAME_DF = 3  # a part is fixed when this many distinct skeletons contain it
MIN_FRAME_WORDS = 12  # fixed words a prompt needs before its frame groups it
DOMINANT_SHARE_INV = 4  # parts held by under 1/4 as many skeletons as a row's top part: content
EDGE_SHARE_INV = 5  # heads and tails held by under 4/5 as many skeletons as the top part: content


def frame_links(
    frame_keys: pa.Array,
    min_df: int = MIN_FRAME_DF,
    min_words: int = MIN_FRAME_WORDS,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Edges between distinct skeletons (rows of ``frame_keys``) and frame nodes.

    A part is *fixed* when at least ``min_df`` rows hold it and it is one of the row's most
    widely held parts: a sentence held by at least 1/4, a head or tail by at least 4/5 as many
    rows as the row's top part (content reused in a few prompts recurs too, far less often than
    the wrapper around it). A row is *framed* when its fixed parts cover at least ``min_words``
    words: the sum over its fixed sentences, its longest fixed head or its longest fixed tail,
    whichever is largest. Each framed row is linked to one node for its whole set of fixed parts,
    so rows are grouped when their frames are equal. Linking through single shared parts would
    chain different templates that share one sentence (two wrappers around one templated
    question). Returns (row, node, node count) with nodes numbered from ``len(frame_keys)``;
    rows that are not framed get no edge, so a short shared opening never groups anything.
    """
    n = len(frame_keys)
    none = np.zeros(0, np.int64)
    if n == 0:
        return none, none, 0
    owner, _, _ = _list_positions(frame_keys)
    keys = pc.list_flatten(frame_keys).to_numpy(zero_copy_only=False).astype(np.int64)
    if not len(keys):
        return none, none, 0
    uniq, kid, df = np.unique(keys, return_inverse=True, return_counts=True)  # keys are a set per row
    fixed = df[kid] >= min_df
    owner, kid = owner[fixed], kid[fixed]
    if not len(kid):
        return none, none, 0
    # A row's frame is its most widely shared parts: content reused in a few prompts (the same
    # question under two wrappers) recurs too, but far less often than the wrapper around it.
    # A head or tail that runs a word or two into the content recurs when many contents start
    # alike ("i ...", "what is the ..."); within a true frame every length is held by (almost)
    # the same skeletons, so heads and tails must match the row's top part closely.
    top = np.zeros(n, np.int64)
    np.maximum.at(top, owner, df[kid])
    edge = key_kind(uniq[kid]) != KIND_SENTENCE
    share_inv = np.where(edge, EDGE_SHARE_INV, DOMINANT_SHARE_INV)
    dominant = df[kid] * share_inv >= top[owner] * np.where(edge, EDGE_SHARE_INV - 1, 1)
    owner, kid = owner[dominant], kid[dominant]
    kind, words = key_kind(uniq[kid]), key_words(uniq[kid])
    sentences = np.bincount(owner, weights=np.where(kind == KIND_SENTENCE, words, 0), minlength=n)
    head = np.zeros(n, np.int64)
    tail = np.zeros(n, np.int64)
    np.maximum.at(head, owner, np.where(kind == KIND_HEAD, words, 0))
    np.maximum.at(tail, owner, np.where(kind == KIND_TAIL, words, 0))
    framed = np.maximum(sentences, np.maximum(head, tail)) >= min_words
    use = framed[owner]
    owner, kid = owner[use], kid[use]
    rows = np.unique(owner)
    if not len(rows):
        return none, none, 0
    # Node per whole set of fixed parts: an order-free sum of the row's mixed keys.
    with np.errstate(over="ignore"):
        h = np.zeros(n, np.uint64)
        np.add.at(h, owner, _mix(uniq[kid].view(np.uint64)))
    frame_ids, frame_node = np.unique(h[rows], return_inverse=True)
    return rows, n + frame_node.astype(np.int64), len(frame_ids)
