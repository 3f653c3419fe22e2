import math

import pytest
import toyworld

from distillguard import features


@pytest.fixture(scope="module")
def rows(world):
    table = features.materialize(toyworld.connect(*world))
    return {r["account_id"]: r for r in table.to_pylist()}


def test_one_row_per_account(world, rows):
    exchanges, _ = world
    assert set(rows) == set(exchanges.column("account_id").to_pylist())
    assert sum(r["exchanges"] for r in rows.values()) == exchanges.num_rows


def test_cadence_separates_round_the_clock_from_a_human_day(rows):
    assert rows["hydra-0"]["hours_of_day"] == 24
    assert rows["hydra-0"]["diurnal_dispersion"] < 1.5
    assert rows["chat-product"]["diurnal_dispersion"] > 4
    assert rows["hydra-0"]["gap_cv"] < 0.3  # scripted pacing
    assert 0.7 < rows["router"]["gap_cv"] < 1.3  # Poisson-like end users


def test_template_reuse_and_system_prompt_sharing(rows):
    assert rows["hydra-0"]["shared_template_share"] == 1.0
    assert rows["hydra-0"]["max_template_accounts"] == len(toyworld.HYDRA)
    assert rows["hydra-0"]["max_system_accounts"] == len(toyworld.HYDRA)
    assert rows["chat-product"]["shared_template_share"] == 0.0
    assert rows["chat-product"]["distinct_system_prompts"] == 1
    assert rows["router"]["template_diversity"] == 1.0


def test_infrastructure_spread(rows):
    assert rows["serverless"]["ips_per_exchange"] == 1.0
    assert rows["hydra-0"]["distinct_subnets"] > 250
    assert rows["campus"]["distinct_ips"] > 100 and rows["campus"]["distinct_subnets"] == 1
    assert rows["chat-product"]["distinct_ips"] == 1


def test_model_pivot_and_ramp(rows):
    assert rows["hydra-0"]["pivot_model"] == "model-new"
    assert rows["hydra-0"]["pivot_24h_share"] > 0.9
    assert rows["hydra-0"]["pre_release_exchanges"] > 0
    assert rows["router"]["pivot_model"] is None
    assert rows["hydra-0"]["created_in_window"] == 1
    assert rows["router"]["created_in_window"] == 0


def test_payment_shared_across_organisations(rows):
    assert rows["hydra-0"]["payment_accounts"] == len(toyworld.HYDRA)
    assert rows["hydra-0"]["payment_orgs"] == len(toyworld.HYDRA)
    assert rows["router"]["payment_orgs"] == 1


def test_harvest_shares(rows):
    assert rows["hydra-0"]["harvest_share"] == 1.0
    assert rows["chat-product"]["harvest_share"] == 0.0
    assert rows["hydra-0"]["top_capability"] == "math_reasoning"


def test_exchanges_alone_without_accounts_or_signals(world):
    exchanges, _ = world
    bare = exchanges.select(["exchange_id", "ts", "account_id", "client_ip", "model"])
    table = features.materialize(toyworld.connect(bare))
    got = {r["account_id"]: r for r in table.to_pylist()}
    assert got["hydra-0"]["tier"] is None
    assert got["hydra-0"]["hours_of_day"] == 24
    assert math.isclose(got["hydra-0"]["harvest_share"], 0.0)


def test_missing_required_column_is_a_clear_error(world):
    exchanges, _ = world
    with pytest.raises(ValueError, match="account_id"):
        features.materialize(toyworld.connect(exchanges.drop_columns(["account_id"])))


def test_sql_renders_per_dialect():
    duck = features.render("duckdb")
    spark = features.render("spark")
    assert "epoch_us(ts)" in duck and "unix_micros(ts)" in spark
    assert "{" not in spark and "epoch_us(" not in spark
    with pytest.raises(ValueError, match="dialect"):
        features.render("postgres")  # type: ignore[arg-type]


def test_harvest_system_prompt_and_moderate_elicitation(rows):
    # The hydra's system prompt declares its answers training data and poses as another model.
    assert rows["hydra-0"]["system_harvest_share"] == 1.0
    assert rows["hydra-0"]["elicit_share"] == 1.0
    assert rows["chat-product"]["system_harvest_share"] == 0.0
    assert rows["ci-agent"]["elicit_share"] == 0.0


def test_posing_counts_only_against_another_model_family():
    import pyarrow as pa

    exchanges, _ = toyworld.build()
    n = 4
    t0 = exchanges.column("ts")[0].as_py()
    extra = pa.table(
        {
            "exchange_id": [f"pose-{i}" for i in range(n)],
            "account_id": ["pose-same", "pose-same", "pose-other", "pose-other"],
            "ts": pa.array([t0] * n, pa.timestamp("us", tz="UTC")),
            "model": ["gpt-4o", "gpt-4o", "claude-3-opus", "claude-3-opus"],
            "system_text": ["You are ChatGPT, a helpful assistant."] * n,
        }
    )
    table = features.materialize(toyworld.connect(extra))
    got = {r["account_id"]: r["system_harvest_share"] for r in table.to_pylist()}
    assert got == {"pose-same": 0.0, "pose-other": 1.0}


def test_fingerprint_rotation_and_key_system_prompts(rows):
    assert rows["hydra-0"]["fps_per_exchange"] > 0.9
    assert rows["chat-product"]["fps_per_exchange"] < 0.01
    assert rows["router"]["fp_exchanges"] == 0  # no fingerprint seen: not rotation
    # The hydra's prompt is specific and sent by a small part of the pool: a coordination key.
    assert rows["hydra-0"]["key_system_share"] == 1.0 and rows["hydra-0"]["key_system_prompts"] == 1
    assert rows["chat-product"]["key_system_share"] == 0.0  # its own prompt, one account


def _system_pool(domains: list[str], system_text: str):
    import pyarrow as pa

    exchanges, accounts = toyworld.build()
    t0 = exchanges.column("ts")[0].as_py()
    ids = [f"member-{i}" for i in range(len(domains))]
    extra = pa.table(
        {
            "exchange_id": [f"m-{a}-{j}" for a in ids for j in range(5)],
            "account_id": [a for a in ids for _ in range(5)],
            "ts": pa.array([t0] * 5 * len(ids), pa.timestamp("us", tz="UTC")),
            "system_text": [system_text] * 5 * len(ids),
            "system_hash": ["sys-pool"] * 5 * len(ids),
        }
    )
    people = pa.table({"account_id": ids, "org_id": ids, "email_domain": domains})
    ex = pa.concat_tables(
        [
            exchanges.select(["exchange_id", "account_id", "ts"]),
            extra.select(["exchange_id", "account_id", "ts"]),
        ]
    )
    ex = ex.append_column(
        "system_text",
        pa.concat_arrays(
            [pa.nulls(exchanges.num_rows, pa.string()), extra.column("system_text").combine_chunks()]
        ),
    )
    ex = ex.append_column(
        "system_hash",
        pa.concat_arrays(
            [pa.nulls(exchanges.num_rows, pa.string()), extra.column("system_hash").combine_chunks()]
        ),
    )
    table = features.materialize(
        toyworld.connect(ex, pa.concat_tables([accounts.select(people.column_names), people]))
    )
    return {r["account_id"]: r for r in table.to_pylist() if r["account_id"] in ids}


def test_key_system_prompt_needs_several_organisations():
    prompt = "You are the teaching assistant of CS101. Answer with hints, never full solutions."
    course = _system_pool(["uni.edu"] * 5, prompt)  # one university: one organisation
    assert all(r["key_system_share"] == 0.0 for r in course.values())
    pool = _system_pool([f"d{i}.example" for i in range(5)], prompt)
    assert all(r["key_system_share"] == 1.0 for r in pool.values())
    stock = _system_pool([f"d{i}.example" for i in range(5)], "You are a helpful assistant.")
    assert all(r["key_system_share"] == 0.0 for r in stock.values())  # a stock default is no key
