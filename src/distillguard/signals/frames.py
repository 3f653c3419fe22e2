"""Frame fingerprints: the fixed parts of a prompt that wraps varying content.

A campaign often puts one fixed instruction around harvested content ("Solve the following
problem. Before giving the final answer, write out ... Problem: <a corpus question>"). Its
skeletons differ as much as the questions do, so neither ``skeleton_hash`` nor the MinHash keys
group it. What its prompts share is the *frame*: the same sentences and the same leading and
trailing words. The map step records candidate frame parts of every prompt as ``frame_keys``;
the global step (``templates.group_skeletons``) keeps the parts that recur across many distinct
skeletons and groups prompts whose recurring parts make up a long enough fixed text.

A key is a signed 64-bit integer: a hash of the part's words in the high bits, the kind of part
(sentence, head, tail) in bits 6-7 and its word count (capped at 63) in bits 0-5, so that the
global step can weigh a part without looking at any text. Parts are taken from the masked,
lower-cased prompt (slots already replaced by placeholders), so the slot values of a template do
not split its frame:

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

from distillguard.signals.skeleton import fold_array

# A sentence ends at . ! ? ; : followed by a space, at a line break, or at a CJK full stop.
SENTENCE_SPLIT = r"[.!?;:]*\n[ \t\n]*|[.!?;:]+[ \t]+|[。！？；：]+"
MIN_SENTENCE_WORDS = 4
EDGE_SENTENCES = 8
EDGE_WORDS = (6, 8, 12, 16, 24, 32)
KIND_SENTENCE, KIND_HEAD, KIND_TAIL = 0, 1, 2
_WORD_BITS = 6
_MAX_WORDS = (1 << _WORD_BITS) - 1
_LOW_BITS = np.uint64(0xFF)
_C = np.uint64(0x9E3779B97F4A7C15)

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


def _word_hashes(strings: pa.Array) -> np.ndarray:
    """xxh3-64 of each string, computed once per distinct value."""
    enc = pc.dictionary_encode(strings)
    vocab = np.fromiter(
        (xxhash.xxh3_64_intdigest(w.encode()) for w in enc.dictionary.to_pylist()),
        dtype=np.uint64,
        count=len(enc.dictionary),
    )
    return vocab[enc.indices.to_numpy(zero_copy_only=False)] if len(vocab) else np.zeros(0, np.uint64)


def _list_positions(lists: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner row, position in its list, list length) of every flattened element."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    owner = np.repeat(np.arange(len(lengths)), lengths)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if len(lengths) else np.zeros(0, np.int64)
    return owner, np.arange(len(owner)) - starts[owner], lengths


def _sentence_keys(masked: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(owner, key) for the edge sentences of each masked prompt."""
    parts = pc.split_pattern_regex(masked, SENTENCE_SPLIT)
    owner, pos, lengths = _list_positions(parts)
    edge = (pos < EDGE_SENTENCES) | (pos >= lengths[owner] - EDGE_SENTENCES)
    flat = pc.filter(pc.list_flatten(parts), pa.array(edge))
    owner = owner[edge]
    folded = fold_array(flat)
    words = pc.add(pc.count_substring(folded, " "), 1).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = (words >= MIN_SENTENCE_WORDS) & (pc.utf8_length(folded).to_numpy(zero_copy_only=False) > 0)
    folded = pc.filter(folded, pa.array(keep))
    return owner[keep], _key(_word_hashes(folded), KIND_SENTENCE, words[keep])


def _edge_keys(skeletons: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(owner, key) for the first and last k words of each skeleton, k in EDGE_WORDS."""
    words = pc.split_pattern(skeletons, " ")
    _, _, lengths = _list_positions(words)
    wh = _word_hashes(pc.list_flatten(words))
    n, depth = len(lengths), max(EDGE_WORDS)
    owners, keys = [], []
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if n else np.zeros(0, np.int64)
    for kind in (KIND_HEAD, KIND_TAIL):
        acc = np.full(n, np.uint64(kind + 1), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(depth):
                live = lengths > j  # rows long enough to have a j-th word from this end
                idx = starts + (j if kind == KIND_HEAD else lengths - 1 - j)
                w = wh[np.where(live, idx, 0)] if len(wh) else np.zeros(n, np.uint64)
                acc = np.where(live, _mix(acc * _C + w), acc)
                k = j + 1
                if k in EDGE_WORDS:
                    rows = np.nonzero(lengths > k)[0]  # a head as long as the prompt is the prompt
                    owners.append(rows)
                    keys.append(_key(acc[rows], kind, np.full(len(rows), k)))
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(owners), np.concatenate(keys)


def frame_keys_array(masked: pa.Array, skeletons: pa.Array) -> pa.Array:
    """``frame_keys`` (list<int64>) of each prompt, from its masked text (``mask_array``) and
    its skeleton (``fold_array`` of it). Empty for empty prompts; deterministic."""
    n = len(masked)
    if n == 0:
        return pa.array([], FRAME_KEYS_TYPE)
    so, sk = _sentence_keys(pc.fill_null(masked, ""))
    eo, ek = _edge_keys(pc.fill_null(skeletons, ""))
    owner = np.concatenate((so, eo))
    keys = np.concatenate((sk, ek))
    # One key per (prompt, part), sorted: the list is a set and compares equal across batches.
    pairs = np.unique(np.stack((owner, keys)), axis=1) if len(keys) else np.zeros((2, 0), np.int64)
    offsets = np.zeros(n + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.bincount(pairs[0], minlength=n))
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(pairs[1], pa.int64()))


# Global step defaults (chosen on the dev half of the corpora with the dev wrappers and openings
# of tests/signals/data/frames.yaml; see docs/signals.md).
MIN_FRAME_DF = 3  # a part is fixed when this many distinct skeletons contain it
MIN_FRAME_WORDS = 12  # fixed words a prompt needs before its frame groups it
MIN_LINK_WORDS = 8  # a fixed part this long links the prompts that share it on its own
DOMINANT_SHARE_INV = 4  # parts held by under 1/4 as many skeletons as a row's top part: content


def frame_links(
    frame_keys: pa.Array,
    min_df: int = MIN_FRAME_DF,
    min_words: int = MIN_FRAME_WORDS,
    min_link_words: int = MIN_LINK_WORDS,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Edges between distinct skeletons (rows of ``frame_keys``) and frame nodes.

    A part is *fixed* when at least ``min_df`` rows hold it and at least a quarter as many rows
    as the row's most widely held part (``DOMINANT_SHARE_INV``). A row is *framed* when its fixed
    parts cover at least ``min_words`` words: the sum over its fixed sentences, or its longest
    fixed head plus its longest fixed tail, whichever is larger. Each framed row is linked to
    every fixed part of at least ``min_link_words`` words and to one node for its whole set of
    fixed parts (a frame made of short sentences only). Returns (row, node, node count) with
    nodes numbered from ``len(frame_keys)``; rows that are not framed get no edge, so a short
    shared opening never groups anything.
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
    top = np.zeros(n, np.int64)
    np.maximum.at(top, owner, df[kid])
    dominant = df[kid] * DOMINANT_SHARE_INV >= top[owner]
    owner, kid = owner[dominant], kid[dominant]
    kind, words = key_kind(uniq[kid]), key_words(uniq[kid])
    sentences = np.bincount(owner, weights=np.where(kind == KIND_SENTENCE, words, 0), minlength=n)
    head = np.zeros(n, np.int64)
    tail = np.zeros(n, np.int64)
    np.maximum.at(head, owner, np.where(kind == KIND_HEAD, words, 0))
    np.maximum.at(tail, owner, np.where(kind == KIND_TAIL, words, 0))
    framed = np.maximum(sentences, np.maximum(head, tail)) >= min_words
    use = framed[owner]
    owner, kid, words = owner[use], kid[use], words[use]
    # Node per long fixed part, numbered by the part's rank among distinct keys.
    long_part = words >= min_link_words
    src = [owner[long_part]]
    dst = [n + kid[long_part]]
    # Node per whole set of fixed parts: hash of the row's sorted key ids (rows are sorted).
    rows = np.unique(owner)
    if len(rows):
        with np.errstate(over="ignore"):
            h = np.zeros(n, np.uint64)
            for_row = _mix(uniq[kid].view(np.uint64))
            np.add.at(h, owner, for_row)  # order-free combination of the row's fixed parts
        sig_ids, sig_node = np.unique(h[rows], return_inverse=True)
        src.append(rows)
        dst.append(n + len(uniq) + sig_node)
        nodes = len(uniq) + len(sig_ids)
    else:
        nodes = len(uniq)
    return np.concatenate(src), np.concatenate(dst), nodes
