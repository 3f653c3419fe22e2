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

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from distillguard.schema import TS
from distillguard.simulate.bodies import ERROR_BODIES, RESPONSE_HEAD, RESPONSE_MID
from distillguard.simulate.style import ip_str
from distillguard.simulate.world import World

CHUNK = 50_000


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


def write_world(world: World, out_dir: Path, fmt: str = "jsonl") -> dict:
    """Write the world's files into `out_dir`; return the counts for the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ts, account, body, ip, agent, key, campaign = world.activity()
    n = len(ts)
    rng = np.random.default_rng([world.seed, 900])
    id_nums = rng.integers(0, np.iinfo(np.int64).max, n, dtype=np.int64)
    status = _statuses(world, rng, campaign)
    pool = world.bodies
    flavor = np.asarray(pool.flavor, np.int8)[body] if n else np.empty(0, np.int8)
    latency = np.asarray(pool.latency_ms)[body] * rng.lognormal(0.0, 0.35, n) if n else np.empty(0)
    latency = np.where(status == 200, latency, rng.uniform(20, 300, n)).round(1)
    ts_text = np.datetime_as_string(ts.astype("datetime64[us]"), unit="ms") if n else np.empty(0, str)
    created = (ts // 1_000_000).astype(np.int64)

    acct_ids = [a.account_id.encode() for a in world.accounts]
    key_ids = [k.encode() for k in world.keys]
    prefix = world.style.request_prefix.encode()
    requests, tails = pool.request, pool.tail
    ex_ids: list[str] = []
    path = out_dir / "exchanges.jsonl"
    with path.open("wb") as fh:
        for lo in range(0, n, CHUNK):
            hi = min(n, lo + CHUNK)
            lines = []
            for i in range(lo, hi):
                eid = f"{id_nums[i]:016x}"
                ex_ids.append(world.style.request_prefix + eid)
                b = body[i]
                f = flavor[i]
                st = int(status[i])
                if st == 200:
                    resp = b"".join(
                        (
                            RESPONSE_HEAD[f],
                            eid.encode(),
                            RESPONSE_MID[f],
                            str(created[i]).encode() if f else b"",
                            b",",
                            tails[b],
                        )
                    )
                else:
                    resp = ERROR_BODIES[(int(f), st)]
                lines.append(
                    b"".join(
                        (
                            b'{"id":"',
                            prefix,
                            eid.encode(),
                            b'","ts":"',
                            ts_text[i].encode(),
                            b'Z","account_id":"',
                            acct_ids[account[i]],
                            b'","api_key_id":"',
                            key_ids[key[i]],
                            b'","client_ip":"',
                            ip_str(int(ip[i])).encode(),
                            b'","user_agent":',
                            world.agents[agent[i]],
                            b',"request":',
                            requests[b],
                            b',"response":',
                            resp,
                            b',"status":',
                            str(st).encode(),
                            b',"latency_ms":',
                            repr(float(latency[i])).encode(),
                            b"}\n",
                        )
                    )
                )
            fh.write(b"".join(lines))

    with (out_dir / "accounts.jsonl").open("wb") as fh:
        fh.writelines(orjson.dumps(a.record()) + b"\n" for a in world.accounts)
    with (out_dir / "truth.jsonl").open("wb") as fh:
        fh.writelines(
            orjson.dumps(
                {
                    "account_id": a.account_id,
                    "label": a.label,
                    "archetype": a.archetype,
                    "campaign_id": a.campaign_id,
                }
            )
            + b"\n"
            for a in world.accounts
        )
    names = pa.array(world.campaigns or [""], pa.string())
    camp = pa.DictionaryArray.from_arrays(pa.array(campaign.astype(np.int32), mask=campaign < 0), names)
    table = pa.table(
        {
            "exchange_id": pa.array(ex_ids, pa.string()),
            "account_id": pa.array([world.accounts[a].account_id for a in account], pa.string()),
            "ts": pa.array(ts, pa.int64()).cast(TS),
            "campaign_id": camp.cast(pa.string()),
        }
    )
    pq.write_table(table, out_dir / "exchange_truth.parquet")
    if fmt == "parquet":
        _write_parquet_copy(path, out_dir / "exchanges.parquet")
    per_campaign = {cid: int((campaign == i).sum()) for i, cid in enumerate(world.campaigns)}
    return {
        "exchanges": n,
        "accounts": len(world.accounts),
        "campaign_exchanges": per_campaign,
        "distinct_bodies": len(pool),
        "bytes": path.stat().st_size,
    }


def _write_parquet_copy(jsonl: Path, out: Path) -> None:
    """The same records as Parquet, with request/response kept as JSON text columns."""
    rows = [orjson.loads(line) for line in jsonl.read_bytes().splitlines()]
    for r in rows:
        r["request"] = orjson.dumps(r["request"]).decode()
        r["response"] = orjson.dumps(r["response"]).decode()
    pq.write_table(pa.Table.from_pylist(rows), out)
