"""Prometheus metrics of the gateway, in a registry of its own (several apps can coexist)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class GatewayMetrics:
    """Requests, actions by rule, added latency, state and detector errors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("distillguard_requests", "API requests seen", ["route", "action"], registry=r)
        self.actions = Counter(
            "distillguard_actions",
            "Policy actions by rule (dry-run included, see `enforced`)",
            ["rule", "action", "enforced"],
            registry=r,
        )
        self.added_latency = Histogram(
            "distillguard_added_latency_seconds",
            "Time the gateway adds before forwarding a request (parsing, scoring, state, policy)",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.1),
            registry=r,
        )
        self.state_errors = Counter(
            "distillguard_state_errors",
            "State backend failures (requests scored without state)",
            ["backend"],
            registry=r,
        )
        self.state_up = Gauge("distillguard_state_up", "1 when the state backend answers", registry=r)
        self.detector_errors = Counter(
            "distillguard_detector_errors", "Scoring failures (the request was forwarded)", registry=r
        )
        self.rejected = Counter(
            "distillguard_rejected", "Requests refused before scoring", ["reason"], registry=r
        )
        self.upstream_errors = Counter(
            "distillguard_upstream_errors", "Upstream connection failures and timeouts", ["kind"], registry=r
        )
        self.withheld = Counter(
            "distillguard_reasoning_withheld",
            "Responses whose reasoning was withheld",
            ["flavor"],
            registry=r,
        )
        self.log_records = Counter(
            "distillguard_exchange_log_records", "Exchange records written", registry=r
        )
        self.log_dropped = Counter(
            "distillguard_exchange_log_dropped", "Exchange records dropped (queue full)", registry=r
        )
        self.state_up.set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
