"""The per-account feature definition: one SQL text for DuckDB and Spark SQL.

The text is written in the common subset of the two dialects (plain aggregates, CASE, window
functions with LAG, COUNT(DISTINCT), STDDEV_POP, LN, GREATEST/LEAST, regexp_extract with a
group index, `%` on integers). The one function the two engines spell differently, epoch
microseconds of a timestamp, is a `{epoch_us}` placeholder filled per engine by `render`, as
are the two source relations. Everything about time is computed from epoch seconds, so the
session time zone never matters. See docs/detection.md for the feature dictionary.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["duckdb", "spark"]

# The only dialect differences the definition relies on.
DIALECTS: dict[str, dict[str, str]] = {
    "duckdb": {"epoch_us": "epoch_us"},
    "spark": {"epoch_us": "unix_micros"},
}

# A model counts as "newly released" when the first exchange that names it comes this long
# after the first exchange of the scan window (it did not exist when the window opened).
NEW_MODEL_AFTER_S = 6 * 3600
# A template or system prompt is "shared" when this many distinct accounts send it.
SHARED_MIN_ACCOUNTS = 3
# A shared system prompt is a coordination key when it is at least this long (stock one-line
# defaults such as "You are a helpful assistant." are shared by unrelated users) and sent by at
# most this share of the scan's accounts.
SPECIFIC_SYSTEM_CHARS = 40
RARE_SHARE = 0.2
# An exchange counts towards `elicit_share` from this elicitation score up (moderate phrasings).
ELICIT_MIN = 0.25
# System prompts written for a harvest: they declare the answers training data for another model,
# or make the model pose as another vendor's model. Lower-case, no backslashes or braces (the text
# must read the same in DuckDB and Spark SQL string literals and survive str.format).
HARVEST_SYSTEM_RE = (
    "(used (for|to|in|as) (train|fine.?tun|distil)"
    "|training (a |the |our )?(student|smaller|small|new) model"
    "|(machine learning|training|fine.?tuning|distillation) (data ?set|data|corpus))"
)
# Group 2 names the model family the system prompt makes the model pose as; it counts as harvest
# content only when the request goes to a model of another family.
POSING_RE = "(you are|act as|pretend to be|respond as) (gpt|chatgpt|claude|gemini|llama|grok|deepseek|qwen)"


ACCOUNT_FEATURES_SQL = """
WITH ex AS (
  SELECT
    account_id,
    exchange_id,
    {epoch_us}(ts) / 1000000.0 AS t,
    COALESCE(model, '') AS model,
    client_ip,
    CASE WHEN regexp_extract(client_ip, '^([0-9]+[.][0-9]+[.][0-9]+)[.]', 1) = '' THEN client_ip
         ELSE regexp_extract(client_ip, '^([0-9]+[.][0-9]+[.][0-9]+)[.]', 1) END AS subnet,
    asn,
    user_agent,
    api_key_id,
    client_fp,
    COALESCE(template_id, skeleton_hash, exchange_id) AS template_id,
    system_hash,
    COALESCE(capability, 'chat') AS capability,
    COALESCE(cot_elicitation, 0.0) AS cot,
    COALESCE(rubric_grading, 0.0) AS rubric,
    COALESCE(censorship_rewrite, 0.0) AS rewrite,
    CASE WHEN thinking_requested THEN 1 ELSE 0 END AS thinking,
    COALESCE(thinking_budget, 0) AS thinking_budget,
    CASE WHEN reasoning_effort = 'high' THEN 1 ELSE 0 END AS effort_high,
    CASE WHEN reasoning_requested OR thinking_requested
              OR COALESCE(reasoning_effort, 'none') NOT IN ('none', 'minimal') THEN 1 ELSE 0 END
      AS reasoning_asked,
    CASE WHEN COALESCE(reasoning_level, 0) >= 3 THEN 1 ELSE 0 END AS reasoning_high,
    max_tokens,
    COALESCE(input_tokens, 0) AS input_tokens,
    COALESCE(output_tokens, 0) AS output_tokens,
    COALESCE(reasoning_chars, 0) AS reasoning_chars,
    CASE WHEN COALESCE(reasoning_tokens, 0) > 0 THEN 1 ELSE 0 END AS reasoning_billed,
    COALESCE(response_chars, 0) AS response_chars,
    COALESCE(tool_count, 0) AS tool_count,
    COALESCE(status, 200) AS status,
    COALESCE(prompt_chars, 0) AS prompt_chars,
    -- A system prompt that says the answers are training data, or makes the model pose as another
    -- vendor's model: content written for a harvest, whatever the user turn asks.
    CASE WHEN regexp_extract(LOWER(COALESCE(system_text, '')), '{harvest_system_re}', 0) <> ''
              OR INSTR(LOWER(COALESCE(model, '')), REPLACE(regexp_extract(LOWER(COALESCE(system_text, '')),
                   '{posing_re}', 2), 'chatgpt', 'gpt')) = 0
         THEN 1 ELSE 0 END AS system_harvest,
    CASE WHEN LENGTH(COALESCE(system_text, '')) >= {specific_system_chars} THEN 1 ELSE 0 END
      AS system_specific
  FROM {exchanges}
),
scan_window AS (
  SELECT MIN(t) AS w0, MAX(t) AS w1 FROM ex
),
base AS (
  SELECT
    account_id,
    COUNT(*) AS exchanges,
    MIN(t) AS first_t,
    MAX(t) AS last_t,
    COUNT(DISTINCT CAST(FLOOR(t / 3600) AS BIGINT)) AS active_hours,
    COUNT(DISTINCT CAST(FLOOR(t / 86400) AS BIGINT)) AS active_days,
    COUNT(DISTINCT template_id) AS distinct_templates,
    COUNT(DISTINCT system_hash) AS distinct_system_prompts,
    COUNT(DISTINCT capability) AS distinct_capabilities,
    COUNT(DISTINCT model) AS distinct_models,
    COUNT(DISTINCT client_ip) AS distinct_ips,
    COUNT(DISTINCT subnet) AS distinct_subnets,
    COUNT(DISTINCT asn) AS distinct_asns,
    COUNT(DISTINCT user_agent) AS distinct_user_agents,
    COUNT(DISTINCT api_key_id) AS distinct_api_keys,
    COUNT(DISTINCT client_fp) AS distinct_client_fps,
    AVG(cot) AS cot_mean,
    AVG(CASE WHEN cot >= 0.5 THEN 1.0 ELSE 0.0 END) AS cot_share,
    AVG(CASE WHEN rubric >= 0.5 THEN 1.0 ELSE 0.0 END) AS rubric_share,
    AVG(CASE WHEN rewrite >= 0.5 THEN 1.0 ELSE 0.0 END) AS rewrite_share,
    AVG(CASE WHEN GREATEST(cot, rubric, rewrite) >= 0.5 THEN 1.0 ELSE 0.0 END) AS harvest_share,
    -- Moderate elicitation counts too: a script rotating many reasoning phrasings scores each one
    -- below 0.5, but sends nothing else.
    AVG(CASE WHEN GREATEST(cot, rubric, rewrite) >= {elicit_min} OR system_harvest = 1 THEN 1.0 ELSE 0.0 END)
      AS elicit_share,
    AVG(CAST(system_harvest AS DOUBLE)) AS system_harvest_share,
    COUNT(client_fp) AS fp_exchanges,
    AVG(CAST(thinking AS DOUBLE)) AS thinking_share,
    AVG(CAST(thinking_budget AS DOUBLE)) AS thinking_budget_mean,
    AVG(CAST(effort_high AS DOUBLE)) AS effort_high_share,
    AVG(CAST(reasoning_asked AS DOUBLE)) AS reasoning_requested_share,
    AVG(CAST(reasoning_high AS DOUBLE)) AS reasoning_high_share,
    AVG(CAST(reasoning_billed AS DOUBLE)) AS reasoning_token_share,
    AVG(CAST(max_tokens AS DOUBLE)) AS max_tokens_mean,
    STDDEV_POP(CAST(max_tokens AS DOUBLE)) AS max_tokens_std,
    AVG(CAST(input_tokens AS DOUBLE)) AS input_tokens_mean,
    AVG(CAST(output_tokens AS DOUBLE)) AS output_tokens_mean,
    SUM(CAST(input_tokens + output_tokens AS DOUBLE)) AS tokens_total,
    SUM(CAST(reasoning_chars AS DOUBLE))
      / GREATEST(SUM(CAST(reasoning_chars + response_chars AS DOUBLE)), 1.0) AS reasoning_char_share,
    AVG(CASE WHEN tool_count > 0 THEN 1.0 ELSE 0.0 END) AS tool_share,
    AVG(CASE WHEN status >= 400 THEN 1.0 ELSE 0.0 END) AS error_share,
    AVG(CASE WHEN status = 429 THEN 1.0 ELSE 0.0 END) AS rate_limited_share,
    AVG(CAST(prompt_chars AS DOUBLE)) AS prompt_chars_mean
  FROM ex
  GROUP BY account_id
),
gaps AS (
  SELECT account_id, t - LAG(t) OVER (PARTITION BY account_id ORDER BY t) AS gap FROM ex
),
gap_stats AS (
  SELECT
    account_id,
    AVG(gap) AS gap_mean_s,
    STDDEV_POP(gap) AS gap_std_s,
    AVG(CASE WHEN gap < 1.0 THEN 1.0 ELSE 0.0 END) AS subsecond_gap_share
  FROM gaps
  WHERE gap IS NOT NULL
  GROUP BY account_id
),
hod AS (
  SELECT account_id, CAST(FLOOR(t / 3600) AS BIGINT) % 24 AS hour_of_day, COUNT(*) AS c
  FROM ex
  GROUP BY account_id, CAST(FLOOR(t / 3600) AS BIGINT) % 24
),
hod_stats AS (
  SELECT hod.account_id,
    COUNT(*) AS hours_of_day,
    SUM(CAST(hod.c AS DOUBLE) * hod.c) AS hod_sq_sum,
    -SUM((CAST(hod.c AS DOUBLE) / b.exchanges) * LN(CAST(hod.c AS DOUBLE) / b.exchanges)) / LN(24.0)
      AS hour_entropy
  FROM hod JOIN base b ON hod.account_id = b.account_id
  GROUP BY hod.account_id
),
hourly AS (
  SELECT account_id, CAST(FLOOR(t / 3600) AS BIGINT) AS hour_idx, COUNT(*) AS c
  FROM ex
  GROUP BY account_id, CAST(FLOOR(t / 3600) AS BIGINT)
),
hourly_stats AS (
  SELECT account_id, MAX(c) AS peak_hour_exchanges FROM hourly GROUP BY account_id
),
daily AS (
  SELECT ex.account_id, CAST(FLOOR((ex.t - b.first_t) / 86400) AS BIGINT) AS day_idx, COUNT(*) AS c
  FROM ex JOIN base b ON ex.account_id = b.account_id
  GROUP BY ex.account_id, CAST(FLOOR((ex.t - b.first_t) / 86400) AS BIGINT)
),
daily_stats AS (
  SELECT account_id,
    MAX(c) AS peak_day_exchanges,
    SUM(CASE WHEN day_idx = 0 THEN c ELSE 0 END) AS first_day_exchanges
  FROM daily
  GROUP BY account_id
),
tpl AS (
  SELECT template_id, COUNT(DISTINCT account_id) AS tpl_accounts FROM ex GROUP BY template_id
),
acct_tpl AS (
  SELECT ex.account_id, ex.template_id, COUNT(*) AS c, MAX(tpl.tpl_accounts) AS tpl_accounts
  FROM ex JOIN tpl ON ex.template_id = tpl.template_id
  GROUP BY ex.account_id, ex.template_id
),
tpl_stats AS (
  SELECT a.account_id,
    MAX(a.c) AS top_template_exchanges,
    -SUM((CAST(a.c AS DOUBLE) / b.exchanges) * LN(CAST(a.c AS DOUBLE) / b.exchanges)) AS template_entropy,
    SUM(CASE WHEN a.tpl_accounts >= {shared_min} THEN a.c ELSE 0 END) AS shared_template_exchanges,
    MAX(a.tpl_accounts) AS max_template_accounts,
    SUM(CASE WHEN a.tpl_accounts >= {shared_min} AND a.c >= 2 THEN 1 ELSE 0 END) AS shared_repeated_templates
  FROM acct_tpl a JOIN base b ON a.account_id = b.account_id
  GROUP BY a.account_id
),
pool AS (
  SELECT COUNT(DISTINCT account_id) AS pool_accounts FROM ex
),
acct_org AS (
  SELECT account_id, MAX(org_id) AS org_id, MAX(email_domain) AS email_domain
  FROM {accounts} GROUP BY account_id
),
sys_prompts AS (
  -- Organisations sending the prompt: the smaller of distinct org ids and e-mail domains (a
  -- course's students each have an account but one university domain).
  SELECT ex.system_hash, COUNT(DISTINCT ex.account_id) AS sys_accounts, MAX(ex.system_specific) AS specific,
    LEAST(COUNT(DISTINCT COALESCE(o.org_id, ex.account_id)),
          COUNT(DISTINCT COALESCE(o.email_domain, ex.account_id))) AS sys_orgs
  FROM ex LEFT JOIN acct_org o ON ex.account_id = o.account_id
  WHERE ex.system_hash IS NOT NULL GROUP BY ex.system_hash
),
sys_stats AS (
  -- A coordination key is a specific system prompt (not a short stock default) that accounts of
  -- several organisations send but only a small part of the pool does.
  SELECT ex.account_id,
    SUM(CASE WHEN sp.sys_accounts >= {shared_min} THEN 1 ELSE 0 END) AS shared_system_exchanges,
    MAX(sp.sys_accounts) AS max_system_accounts,
    SUM(CASE WHEN sp.sys_orgs >= {shared_min} AND sp.specific = 1
              AND sp.sys_accounts <= {rare_share} * pool.pool_accounts THEN 1 ELSE 0 END)
      AS key_system_exchanges,
    COUNT(DISTINCT CASE WHEN sp.sys_orgs >= {shared_min} AND sp.specific = 1
              AND sp.sys_accounts <= {rare_share} * pool.pool_accounts THEN sp.system_hash END)
      AS key_system_prompts
  FROM ex JOIN sys_prompts sp ON ex.system_hash = sp.system_hash CROSS JOIN pool
  GROUP BY ex.account_id
),
acct_cap AS (
  SELECT account_id, capability, COUNT(*) AS c,
    ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY COUNT(*) DESC, capability) AS rn
  FROM ex GROUP BY account_id, capability
),
cap_stats AS (
  -- Ties broken by name, so that every engine picks the same top capability.
  SELECT account_id, c AS top_capability_exchanges, capability AS top_capability
  FROM acct_cap WHERE rn = 1
),
acct_model AS (
  SELECT account_id, model, COUNT(*) AS c,
    ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY COUNT(*) DESC, model) AS rn
  FROM ex GROUP BY account_id, model
),
model_stats AS (
  SELECT account_id, c AS top_model_exchanges, model AS top_model FROM acct_model WHERE rn = 1
),
releases AS (
  SELECT ex.model, MIN(ex.t) AS release_t
  FROM ex CROSS JOIN scan_window
  GROUP BY ex.model
  HAVING MIN(ex.t) > MIN(scan_window.w0) + {new_model_after_s}
),
moves AS (
  SELECT ex.account_id, r.model AS new_model, r.release_t,
    SUM(CASE WHEN ex.t >= r.release_t AND ex.t < r.release_t + 86400 THEN 1 ELSE 0 END) AS after_24h,
    SUM(CASE WHEN ex.t >= r.release_t AND ex.t < r.release_t + 86400 AND ex.model = r.model
             THEN 1 ELSE 0 END) AS after_24h_on_new,
    SUM(CASE WHEN ex.t < r.release_t THEN 1 ELSE 0 END) AS before_release,
    SUM(CASE WHEN ex.model = r.model THEN 1 ELSE 0 END) AS on_new,
    MIN(CASE WHEN ex.model = r.model THEN ex.t END) AS first_on_new_t
  FROM ex CROSS JOIN releases r
  GROUP BY ex.account_id, r.model, r.release_t
),
moves_ranked AS (
  SELECT p.*,
    ROW_NUMBER() OVER (PARTITION BY p.account_id
                       ORDER BY CAST(p.after_24h_on_new AS DOUBLE) / GREATEST(p.after_24h, 1) DESC,
                                p.new_model) AS rn
  FROM moves p
  WHERE p.on_new > 0
),
move_stats AS (
  SELECT account_id, new_model AS pivot_model,
    CAST(after_24h_on_new AS DOUBLE) / GREATEST(after_24h, 1) AS pivot_24h_share,
    after_24h AS pivot_window_exchanges,
    before_release AS pre_release_exchanges,
    (first_on_new_t - release_t) / 3600.0 AS new_model_adopt_delay_h
  FROM moves_ranked WHERE rn = 1
),
newmodel AS (
  SELECT ex.account_id, SUM(CASE WHEN r.model IS NOT NULL THEN 1 ELSE 0 END) AS new_model_exchanges
  FROM ex LEFT JOIN releases r ON ex.model = r.model
  GROUP BY ex.account_id
),
acct AS (
  SELECT account_id,
    MAX({epoch_us}(created_at) / 1000000.0) AS created_t,
    MAX(tier) AS tier,
    MAX(CASE WHEN verified THEN 1 ELSE 0 END) AS verified,
    MAX(payment_fingerprint) AS payment_fingerprint,
    MAX(org_id) AS org_id,
    MAX(email_domain) AS email_domain
  FROM {accounts}
  GROUP BY account_id
),
pay AS (
  SELECT payment_fingerprint, COUNT(DISTINCT account_id) AS payment_accounts,
    -- Accounts of one organisation (one org id, or one e-mail domain) may share a card.
    LEAST(COUNT(DISTINCT COALESCE(org_id, account_id)), COUNT(DISTINCT COALESCE(email_domain, account_id)))
      AS payment_orgs
  FROM {accounts} WHERE payment_fingerprint IS NOT NULL GROUP BY payment_fingerprint
)
SELECT
  b.account_id,
  b.exchanges,
  b.first_t,
  b.last_t,
  b.last_t - b.first_t AS span_s,
  b.active_hours,
  b.active_days,
  CAST(b.active_hours AS DOUBLE) / GREATEST(FLOOR((w.w1 - w.w0) / 3600) + 1, 1) AS window_hour_coverage,
  CAST(b.exchanges AS DOUBLE) / b.active_hours AS exchanges_per_active_hour,
  CAST(b.exchanges AS DOUBLE) / b.active_days AS exchanges_per_active_day,
  hs.peak_hour_exchanges,
  ds.peak_day_exchanges,
  ds.first_day_exchanges,
  CAST(ds.first_day_exchanges AS DOUBLE) / ds.peak_day_exchanges AS first_day_ratio,
  g.gap_mean_s,
  g.gap_std_s,
  g.gap_std_s / GREATEST(g.gap_mean_s, 0.001) AS gap_cv,
  g.subsecond_gap_share,
  h.hours_of_day,
  h.hour_entropy,
  -- Dispersion of the 24 hour-of-day counts against a flat Poisson rate: ~1 for round-the-clock
  -- machine traffic, far above 1 for traffic that follows a human day.
  (h.hod_sq_sum / 24.0 - POWER(b.exchanges / 24.0, 2)) / (b.exchanges / 24.0) AS diurnal_dispersion,
  b.distinct_templates,
  CAST(b.distinct_templates AS DOUBLE) / b.exchanges AS template_diversity,
  CAST(tp.top_template_exchanges AS DOUBLE) / b.exchanges AS top_template_share,
  tp.template_entropy,
  CAST(tp.shared_template_exchanges AS DOUBLE) / b.exchanges AS shared_template_share,
  tp.max_template_accounts,
  tp.shared_repeated_templates,
  b.distinct_system_prompts,
  CAST(COALESCE(ss.shared_system_exchanges, 0) AS DOUBLE) / b.exchanges AS shared_system_share,
  COALESCE(ss.max_system_accounts, 0) AS max_system_accounts,
  CAST(COALESCE(ss.key_system_exchanges, 0) AS DOUBLE) / b.exchanges AS key_system_share,
  COALESCE(ss.key_system_prompts, 0) AS key_system_prompts,
  b.distinct_capabilities,
  cs.top_capability,
  CAST(cs.top_capability_exchanges AS DOUBLE) / b.exchanges AS top_capability_share,
  b.cot_mean,
  b.cot_share,
  b.rubric_share,
  b.rewrite_share,
  b.harvest_share,
  b.elicit_share,
  b.system_harvest_share,
  b.thinking_share,
  b.thinking_budget_mean,
  b.effort_high_share,
  b.reasoning_requested_share,
  b.reasoning_high_share,
  b.reasoning_char_share,
  b.reasoning_token_share,
  b.max_tokens_mean,
  b.max_tokens_std,
  b.input_tokens_mean,
  b.output_tokens_mean,
  b.tokens_total,
  b.tool_share,
  b.error_share,
  b.rate_limited_share,
  b.prompt_chars_mean,
  b.distinct_ips,
  b.distinct_subnets,
  b.distinct_asns,
  b.distinct_user_agents,
  b.distinct_api_keys,
  b.distinct_client_fps,
  b.fp_exchanges,
  CAST(b.distinct_client_fps AS DOUBLE) / GREATEST(b.fp_exchanges, 1) AS fps_per_exchange,
  CAST(b.distinct_ips AS DOUBLE) / b.exchanges AS ips_per_exchange,
  CAST(b.distinct_subnets AS DOUBLE) / b.exchanges AS subnets_per_exchange,
  b.distinct_models,
  ms.top_model,
  CAST(ms.top_model_exchanges AS DOUBLE) / b.exchanges AS top_model_share,
  CAST(COALESCE(nm.new_model_exchanges, 0) AS DOUBLE) / b.exchanges AS new_model_share,
  ps.pivot_model,
  ps.pivot_24h_share,
  ps.pivot_window_exchanges,
  ps.pre_release_exchanges,
  ps.new_model_adopt_delay_h,
  a.tier,
  a.verified,
  a.created_t,
  (b.first_t - a.created_t) / 86400.0 AS age_at_first_days,
  CASE WHEN a.created_t IS NOT NULL AND a.created_t >= w.w0 - 86400 THEN 1 ELSE 0 END AS created_in_window,
  a.payment_fingerprint,
  COALESCE(py.payment_accounts, 0) AS payment_accounts,
  COALESCE(py.payment_orgs, 0) AS payment_orgs,
  a.org_id,
  a.email_domain
FROM base b
CROSS JOIN scan_window w
LEFT JOIN gap_stats g ON b.account_id = g.account_id
LEFT JOIN hod_stats h ON b.account_id = h.account_id
LEFT JOIN hourly_stats hs ON b.account_id = hs.account_id
LEFT JOIN daily_stats ds ON b.account_id = ds.account_id
LEFT JOIN tpl_stats tp ON b.account_id = tp.account_id
LEFT JOIN sys_stats ss ON b.account_id = ss.account_id
LEFT JOIN cap_stats cs ON b.account_id = cs.account_id
LEFT JOIN model_stats ms ON b.account_id = ms.account_id
LEFT JOIN newmodel nm ON b.account_id = nm.account_id
LEFT JOIN move_stats ps ON b.account_id = ps.account_id
LEFT JOIN acct a ON b.account_id = a.account_id
LEFT JOIN pay py ON a.payment_fingerprint = py.payment_fingerprint
ORDER BY b.account_id
"""


def render(dialect: Dialect = "duckdb", exchanges: str = "exchanges", accounts: str = "accounts") -> str:
    """Return `ACCOUNT_FEATURES_SQL` ready to run on `dialect`, reading the given relations.

    `exchanges` and `accounts` are relation names (or parenthesized subqueries) with the
    columns of the store's views of the same names.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected one of {sorted(DIALECTS)}")
    return ACCOUNT_FEATURES_SQL.format(
        exchanges=exchanges,
        accounts=accounts,
        shared_min=SHARED_MIN_ACCOUNTS,
        new_model_after_s=NEW_MODEL_AFTER_S,
        harvest_system_re=HARVEST_SYSTEM_RE,
        posing_re=POSING_RE,
        specific_system_chars=SPECIFIC_SYSTEM_CHARS,
        rare_share=RARE_SHARE,
        elicit_min=ELICIT_MIN,
        **DIALECTS[dialect],
    )
