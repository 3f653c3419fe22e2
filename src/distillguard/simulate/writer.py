"""Writing a built world: exchange log, accounts, ground truth and a manifest.

The exchange log is assembled from pre-rendered byte fragments in chunks, so writing costs a few
microseconds per exchange. Files:

- `exchanges.jsonl` — one exchange record per line (id, ts, account_id, api_key_id, client_ip,
  user_agent, request, response, status, latency_ms), in time order.
- `accounts.jsonl` — one account record per line.
- `truth.jsonl` — per account: account_id, label (legit|campaign), archetype, campaign_id.
- `exchange_truth.parquet` — per exchange: exchange_id, account_id, ts, campaign_id (null for
  legitimate traffic, including a reseller's ordinary customers).
- `manifest.json` — scenario, seed, split, scale, corpus used, world clock, counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.schema import TS
from distillguard.simulate.bodies import ERROR_BODIES
from distillguard.simulate.world import World

CHUNK = 50_000
_HEAD = (
    b'{"id":"%s%016x","ts":"%sZ","account_id":"%s","api_key_id":"%s","client_ip":"%d.%d.%d.%d",'
    b'"user_agent":%s,"request":'
)
_END = b',"status":%d,"latency_ms":%.1f}\n'
# The response's opening, by flavour code, up to its pre-rendered tail.
_RESPONSE_ID = (
    b',"response":{"id":"msg_01%016x",',
    b',"response":{"id":"chatcmpl-%016x","object":"chat.completion","created":%d,',
    b',"response":{"id":"resp_%016x","object":"response","created_at":%d,',
)


def _statuses(world: World, rng: np.random.Generator, campaign: np.ndarray) -> np.ndarray:
    """HTTP status per exchange: rare server errors for all, rate limits mostly for pools."""
    n = len(campaign)
    err = world.scenario.world.error_rate
    status = np.full(n, 200, np.int16)
    r = rng.random(n)
    status[r < err * 0.6] = 500
    status[(r >= err * 0.6) & (r < err)] = 529
    limited = rng.random(n) < np.where(campaign >= 0, 0.02, 0.002)
    status[limited & (status == 200)] = 429
    return status


def _with_retries(
    world: World, rng: np.random.Generator, cols: tuple[np.ndarray, ...]
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Decide statuses, and add the client's retry of each failed call (the official SDKs retry
    429 and 5xx after a short backoff): the same body again, seconds later. Returns the columns
    with the retries, re-sorted by time, and the status of every row."""
    status = _statuses(world, rng, cols[6])
    failed = np.flatnonzero(status != 200)
    if len(failed) == 0:
        return cols, status
    backoff = (rng.uniform(0.4, 8.0, len(failed)) * 1_000_000).astype(np.int64)
    retry = tuple(np.concatenate([c, c[failed]]) for c in cols)
    retry[0][len(cols[0]) :] += backoff
    status = np.concatenate([status, np.full(len(failed), 200, np.int16)])
    order = np.argsort(retry[0], kind="stable")
    keep = retry[0][order] < world.end
    return tuple(c[order][keep] for c in retry), status[order][keep]


def write_world(world: World, out_dir: Path, fmt: str = "jsonl") -> dict:
    """Write the world's files into `out_dir`; return the counts for the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([world.seed, 900])
    cols, status = _with_retries(world, rng, world.activity())
    ts, account, _body, _ip, _agent, _key, campaign = cols
    id_nums = rng.integers(0, np.iinfo(np.int64).max, len(ts), dtype=np.int64)
    path = out_dir / "exchanges.jsonl"
    _write_exchanges(world, path, cols, status, id_nums, rng)

    with (out_dir / "accounts.jsonl").open("wb") as fh:
        fh.writelines(orjson.dumps(a.record()) + b"\n" for a in world.accounts)
    with (out_dir / "truth.jsonl").open("wb") as fh:
        for a in world.accounts:
            row = {
                "account_id": a.account_id,
                "label": a.label,
                "archetype": a.archetype,
                "campaign_id": a.campaign_id,
            }
            fh.write(orjson.dumps(row) + b"\n")
    ids = [a.account_id for a in world.accounts]
    table = pa.table(
        {
            "exchange_id": pa.array([f"{world.style.request_prefix}{v:016x}" for v in id_nums.tolist()]),
            "account_id": pa.DictionaryArray.from_arrays(pa.array(account, pa.int32()), pa.array(ids)).cast(
                pa.string()
            ),
            "ts": pa.array(ts, pa.int64()).cast(TS),
            "campaign_id": pa.DictionaryArray.from_arrays(
                pa.array(campaign.astype(np.int32), mask=campaign < 0), pa.array(world.campaigns or [""])
            ).cast(pa.string()),
        }
    )
    pq.write_table(table, out_dir / "exchange_truth.parquet")
    if fmt == "parquet":
        _write_parquet_copy(path, out_dir / "exchanges.parquet")
    return {
        "exchanges": len(ts),
        "accounts": len(world.accounts),
        "campaign_exchanges": {cid: int((campaign == i).sum()) for i, cid in enumerate(world.campaigns)},
        "distinct_bodies": len(world.bodies),
        "bytes": path.stat().st_size,
    }


def _write_exchanges(
    world: World,
    path: Path,
    cols: tuple[np.ndarray, ...],
    status: np.ndarray,
    id_nums: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """exchanges.jsonl: small formatted pieces around the pre-rendered bodies, gathered per chunk."""
    ts, account, body, ip, agent, key, _campaign = cols
    n = len(ts)
    pool = world.bodies
    flavor = np.asarray(pool.flavor, np.int8)[body] if n else np.empty(0, np.int8)
    ip = ip.astype(np.int64)
    latency = np.asarray(pool.latency_ms)[body] * rng.lognormal(0.0, 0.35, n) if n else np.empty(0)
    latency = np.where(status == 200, latency, rng.uniform(20, 300, n)).round(1)
    ts_text = np.datetime_as_string(ts.astype("datetime64[us]"), unit="ms").astype("S23")
    created = (ts // 1_000_000).astype(np.int64)
    acct_ids = [a.account_id.encode() for a in world.accounts]
    key_ids = [k.encode() for k in world.keys]
    prefix = world.style.request_prefix.encode()
    requests, tails, agents = pool.request, pool.tail, world.agents
    with path.open("wb") as fh:
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            # Python lists of plain ints/bytes: per-element numpy access is what costs time.
            rows = zip(
                id_nums[lo:hi].tolist(),
                ts_text[lo:hi].tolist(),
                account[lo:hi].tolist(),
                key[lo:hi].tolist(),
                ((ip[lo:hi] >> 24) & 255).tolist(),
                ((ip[lo:hi] >> 16) & 255).tolist(),
                ((ip[lo:hi] >> 8) & 255).tolist(),
                (ip[lo:hi] & 255).tolist(),
                agent[lo:hi].tolist(),
                body[lo:hi].tolist(),
                flavor[lo:hi].tolist(),
                status[lo:hi].tolist(),
                latency[lo:hi].tolist(),
                created[lo:hi].tolist(),
                strict=True,
            )
            parts: list[bytes] = []
            put = parts.append
            for eid, t, a, k, o1, o2, o3, o4, ag, b, f, st, lat, cr in rows:
                put(_HEAD % (prefix, eid, t, acct_ids[a], key_ids[k], o1, o2, o3, o4, agents[ag]))
                put(requests[b])
                if st == 200:
                    put(_RESPONSE_ID[f] % (eid, cr) if f else _RESPONSE_ID[0] % eid)
                    put(tails[b])
                else:
                    put(b',"response":')
                    put(ERROR_BODIES[(f, st)])
                put(_END % (st, lat))
            _write_parts(fh, parts)


def _write_parts(fh, parts: list[bytes]) -> None:
    """Write the pieces with gathered writes: no joined copy of a whole chunk in memory."""
    fh.flush()
    fd = fh.fileno()
    step = min(1024, os.sysconf("SC_IOV_MAX")) if hasattr(os, "sysconf") else 1024
    for lo in range(0, len(parts), step):
        batch = parts[lo : lo + step]
        want = sum(map(len, batch))
        done = os.writev(fd, batch)
        if done < want:  # a short write: finish this batch the plain way
            rest = memoryview(b"".join(batch))[done:]
            while rest:
                rest = rest[os.write(fd, rest) :]


_PARQUET_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("ts", pa.string()),
        ("account_id", pa.string()),
        ("api_key_id", pa.string()),
        ("client_ip", pa.string()),
        ("user_agent", pa.string()),
        ("request", pa.string()),  # the body as JSON text
        ("response", pa.string()),
        ("status", pa.int32()),
        ("latency_ms", pa.float64()),
    ]
)


def _write_parquet_copy(jsonl: Path, out: Path) -> None:
    """The same records as Parquet, in batches, with request/response kept as JSON text columns."""
    with jsonl.open("rb") as src, pq.ParquetWriter(out, _PARQUET_SCHEMA, compression="zstd") as dst:
        batch: list[dict] = []
        for line in src:
            r = orjson.loads(line)
            r["request"] = orjson.dumps(r["request"]).decode()
            r["response"] = orjson.dumps(r["response"]).decode()
            batch.append(r)
            if len(batch) == CHUNK:
                dst.write_table(pa.Table.from_pylist(batch, schema=_PARQUET_SCHEMA))
                batch = []
        if batch:
            dst.write_table(pa.Table.from_pylist(batch, schema=_PARQUET_SCHEMA))
