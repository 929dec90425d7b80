"""Prometheus metrics of one bot process (one registry per runtime, so tests can run several)."""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.aiohttp import make_aiohttp_handler

STAGES = ("normalize", "extract", "analyze", "match", "compose")
# Slack's documented X-Slack-Retry-Reason values. The header is not signed, so anything else is "other":
# a free-form label would let any sender grow /metrics without bound.
RETRY_REASONS = frozenset(
    {"http_timeout", "too_many_redirects", "connection_failed", "ssl_error", "http_error", "unknown_error"}
)


def retry_reason(header: str) -> str:
    """The metrics label for an X-Slack-Retry-Reason header value: one of RETRY_REASONS, "unknown" or "other"."""
    if not header:
        return "unknown"
    return header if header in RETRY_REASONS else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # Memory, CPU, open files and GC pauses of the process, as every Prometheus client exposes them.
        ProcessCollector(registry=r)
        for collector in (GC_COLLECTOR, PLATFORM_COLLECTOR):
            r.register(collector)
        self.events = Counter(
            "kratos_bot_events_received", "Slack events and interactions received", ["kind"], registry=r
        )
        self.duplicates = Counter("kratos_bot_events_duplicate", "Deliveries skipped as duplicates", registry=r)
        self.retries = Counter(
            "kratos_bot_events_retried", "Deliveries Slack marked as retries (HTTP mode)", ["reason"], registry=r
        )
        self.replies = Counter("kratos_bot_replies_posted", "Replies posted", ["confidence"], registry=r)
        self.unanswered = Counter("kratos_bot_unanswered", "Replies with no match (confidence none)", registry=r)
        self.post_failures = Counter(
            "kratos_bot_post_failures", "Reply posts that failed (retried from the outbox unless given up)", registry=r
        )
        self.retries_scheduled = Counter(
            "kratos_bot_outbox_retries", "Reply posts put back in the outbox for a later attempt", registry=r
        )
        self.given_up = Counter(
            "kratos_bot_outbox_given_up",
            "Replies never posted: permanent error, too old, or no outbox to retry from",
            ["reason"],
            registry=r,
        )
        self.feedback = Counter("kratos_bot_feedback", "Feedback clicks", ["value"], registry=r)
        self.state_errors = Counter("kratos_bot_state_errors", "State store errors", registry=r)
        self.reloads = Counter("kratos_bot_knowledge_reloads", "Knowledge reloads", ["result"], registry=r)
        self.refused = Counter(
            "kratos_bot_requests_refused",
            "HTTP requests to /slack/events refused before reaching the app, by reason",
            ["reason"],
            registry=r,
        )
        self.silenced = Counter(
            "kratos_bot_messages_not_answered",
            "Messages the bot chose not to answer (bot/engage.py), by reason",
            ["reason"],
            registry=r,
        )
        self.handoffs = Counter(
            "kratos_bot_handoffs", "'Still stuck' hand-offs to people, by the answer's entry", ["entry"], registry=r
        )
        self.resolutions = Counter(
            "kratos_bot_resolutions", "Threads marked resolved, by the answer's entry", ["entry"], registry=r
        )
        self.stage = Histogram(
            "kratos_bot_stage_seconds",
            "Pipeline stage latency",
            ["stage"],
            registry=r,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
        )
        self.latency = Histogram(
            "kratos_bot_answer_seconds",
            "Event to posted reply",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )

    def observe_stages(self, timings: dict[str, float]) -> None:
        for stage, seconds in timings.items():
            self.stage.labels(stage=stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def aiohttp_handler(self):
        """The `/metrics` handler: prometheus-client's own (content negotiation, gzip, OpenMetrics)."""
        return make_aiohttp_handler(self.registry)
