"""/metrics: what an operator graphs and alerts on, and the Grafana dashboard that uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from syndicator import admin
from syndicator.models import Notification, utcnow
from tests.integration.conftest import COVER, WECHAT_APP_ID
from tests.support import corpus_articles, inject_faults, post_signed, publications, run_worker

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "syndicator.json"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


async def test_metrics_cover_publishing_retries_tokens_queue_and_backlogs(
    db, api, settings, emulators
) -> None:
    article = corpus_articles()[1]
    async with db.transaction() as session:
        await admin.add_unit(session, article["unit"], "county", None, actor="test")
        await admin.add_account(
            session, unit=article["unit"], platform="wechat", name="wx", api_base_url=emulators["wechat"].url,
            app_id=WECHAT_APP_ID, secret_env="TEST_WECHAT_SECRET", default_cover=str(COVER), actor="test",
        )  # fmt: skip
        await admin.add_account(
            session, unit=article["unit"], platform="weibo", name="wb", api_base_url=emulators["weibo"].url,
            secret_env="TEST_WEIBO_TOKEN", safe_domain="xingning.gov.cn", actor="test",
        )  # fmt: skip
        session.add(Notification(key="m1", chat_id=-1, text="未送达", payload={}, created_at=utcnow()))
    busy = {"request": "/2/statuses/share.json", "error_code": 10001, "error": "system error!"}
    inject_faults(
        emulators["weibo"].url,
        queue=[{"kind": "answer", "status": 500, "body": busy, "path": "/2/statuses/share.json"}],
    )
    assert (await post_signed(api, article)).status_code == 202
    await run_worker(settings)
    assert {p.state for p in await publications(db)} == {"published"}

    response = await api.get("/metrics")
    assert response.status_code == 200
    found = samples(response.text)
    assert value(found, "syndicator_publications", platform="wechat", state="published") == 1
    assert value(found, "syndicator_publish_latency_seconds_count", platform="weibo") == 1
    assert value(found, "syndicator_publish_latency_seconds_bucket", platform="wechat", le="+Inf") == 1
    assert value(found, "syndicator_channel_errors_total", platform="weibo", code="10001") == 1
    assert value(found, "syndicator_publish_retries_total", platform="weibo") == 1
    assert value(found, "syndicator_token_fetches_total", platform="wechat") >= 1
    assert value(found, "syndicator_queue_depth", queue=settings.queue_name) == 0
    assert value(found, "syndicator_outbox_backlog") == 1
    assert value(found, "syndicator_comments_pending") == 0
    assert value(found, "syndicator_obligation_targets", status="overdue") == 0
    assert value(found, "syndicator_redis_up") == 1


def test_the_grafana_dashboard_uses_only_metrics_that_exist() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {name for expr in expressions for name in re.findall(r"\bsyndicator_[a-z_]+", expr)}
    exported = {
        "syndicator_publications", "syndicator_publish_latency_seconds_bucket",
        "syndicator_channel_errors_total",
        "syndicator_publish_retries_total", "syndicator_token_fetches_total", "syndicator_queue_depth",
        "syndicator_comments_pending", "syndicator_comments_oldest_pending_age_seconds",
        "syndicator_obligation_targets", "syndicator_outbox_backlog", "syndicator_outbox_oldest_age_seconds",
        "syndicator_redis_up", "syndicator_publish_latency_seconds_count",
    }  # fmt: skip
    assert used and used <= exported, used - exported
