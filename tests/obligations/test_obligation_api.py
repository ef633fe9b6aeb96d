"""The compliance API over HTTP: JSON, CSV and XLSX read back, roles and officers' scope; the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from syndicator.api.app import create_app
from syndicator.background_server import BackgroundServer
from syndicator.cli.compliance import compliance_app
from syndicator.config import Settings
from syndicator.db import Database
from syndicator.obligations.fulfil import detect_manual_reposts
from syndicator.obligations.matching import RecentPost
from tests.obligations.conftest import EVENING, Org, open_item

DEADLINE = EVENING + timedelta(hours=12)
AS_OF = (DEADLINE + timedelta(hours=1)).isoformat()


@pytest.fixture
async def compliance_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    with BackgroundServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            yield client


@pytest.fixture
async def scenario(db: Database, org: Org) -> Org:
    """One national item; Nanjing's WeChat reposted on time, everyone else is overdue an hour later."""
    await open_item(db)
    async with db.transaction() as session:
        post = RecentPost(
            "国办发〔2026〕9号 全文", "https://mp.weixin.qq.com/s/nj", "", EVENING + timedelta(hours=3)
        )
        await detect_manual_reposts(
            session, org.accounts["南京市人民政府-wechat"], [post], now=EVENING + timedelta(hours=3)
        )
    return org


def bearer(org: Org, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.tokens[user]}"}


async def test_json_report_per_unit_and_scope(compliance_api: httpx.AsyncClient, scenario: Org) -> None:
    whole = await compliance_api.get(
        "/api/v1/compliance", params={"as_of": AS_OF}, headers=bearer(scenario, "officer")
    )
    assert whole.status_code == 200
    body = whole.json()
    assert body["totals"] == {
        "targets": 10,
        "on_time": 1,
        "late": 0,
        "overdue": 9,
        "open": 0,
        "waived": 0,
        "on_time_pct": 10.0,
    }
    nanjing = next(u for u in body["units"] if u["unit_name"] == "南京市人民政府")
    assert (nanjing["on_time"], nanjing["overdue"], nanjing["median_delay_hours"]) == (1, 1, 3.0)
    assert len(body["overdue"]) == 9 and body["targets_total"] == 10
    scoped = await compliance_api.get(
        "/api/v1/compliance", params={"as_of": AS_OF}, headers=bearer(scenario, "zj-officer")
    )
    assert {u["unit_name"] for u in scoped.json()["units"]} == {"浙江省人民政府", "杭州市人民政府"}
    outside = await compliance_api.get(
        "/api/v1/compliance", params={"unit": "南京市人民政府"}, headers=bearer(scenario, "zj-officer")
    )
    assert outside.status_code == 404  # out of scope reads as unknown (issue 12, finding 9)
    assert (
        await compliance_api.get("/api/v1/compliance", headers=bearer(scenario, "editor"))
    ).status_code == 403
    schema = (await compliance_api.get("/openapi.json")).json()
    assert "/api/v1/compliance" in schema["paths"] and "/api/v1/compliance.xlsx" in schema["paths"]


async def test_csv_has_bom_and_chinese_headers(compliance_api: httpx.AsyncClient, scenario: Org) -> None:
    response = await compliance_api.get(
        "/api/v1/compliance.csv",
        params={"as_of": AS_OF, "sheet": "units"},
        headers=bearer(scenario, "js-officer"),
    )
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {r["单位"] for r in rows} == {"江苏省人民政府", "南京市人民政府", "江宁区人民政府"}
    nanjing = next(r for r in rows if r["单位"] == "南京市人民政府")
    assert (nanjing["按时"], nanjing["超时未转"], nanjing["按时率（%）"]) == ("1", "1", "50.0")
    detail = await compliance_api.get(
        "/api/v1/compliance.csv", params={"as_of": AS_OF}, headers=bearer(scenario, "js-officer")
    )
    lines = list(csv.DictReader(io.StringIO(detail.content.decode("utf-8-sig"))))
    on_time = [r for r in lines if r["状态"] == "按时转载"]
    assert len(on_time) == 1 and on_time[0]["完成时间"] == "2026-11-25 23:40"
    assert on_time[0]["截止时间"] == "2026-11-26 08:40" and on_time[0]["完成方式"] == "人工转载（检测）"


async def test_xlsx_opens_with_openpyxl_and_holds_every_sheet(
    compliance_api: httpx.AsyncClient, scenario: Org
) -> None:
    response = await compliance_api.get(
        "/api/v1/compliance.xlsx", params={"as_of": AS_OF}, headers=bearer(scenario, "officer")
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["说明", "单位汇总", "超时未转载", "转载明细", "更新频率预警"]
    overdue = list(book["超时未转载"].iter_rows(values_only=True))
    assert overdue[0][:3] == ("任务编号", "上级信息", "文号") and len(overdue) == 10
    header = overdue[0]
    deadline = overdue[1][header.index("截止时间")]
    assert deadline.strftime("%Y-%m-%d %H:%M") == "2026-11-26 08:40"  # Beijing wall-clock time
    assert overdue[1][header.index("状态")] == "超时未转载"


async def test_evidence_and_waiver_over_http(compliance_api: httpx.AsyncClient, scenario: Org) -> None:
    body = (
        await compliance_api.get(
            "/api/v1/compliance", params={"as_of": AS_OF}, headers=bearer(scenario, "officer")
        )
    ).json()
    hangzhou = next(t["obligation_id"] for t in body["overdue"] if t["unit_name"] == "杭州市人民政府")
    refused = await compliance_api.post(
        f"/api/v1/obligations/{hangzhou}/waive",
        json={"reason": "维护"},
        headers=bearer(scenario, "js-officer"),
    )
    assert refused.status_code == 404  # out of scope reads as missing
    evidence = await compliance_api.post(
        f"/api/v1/obligations/{hangzhou}/evidence",
        json={"url": "https://weibo.com/hz/1", "note": "人工核实"},
        headers=bearer(scenario, "zj-officer"),
    )
    assert evidence.status_code == 200 and evidence.json()["fulfilled_via"] == "evidence"
    again = await compliance_api.post(
        f"/api/v1/obligations/{hangzhou}/waive",
        json={"reason": "维护"},
        headers=bearer(scenario, "zj-officer"),
    )
    assert again.status_code == 409


async def test_cli_report_as_json_and_table(
    scenario: Org, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNDICATOR_DATABASE_URL", settings.database_url)
    from syndicator.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    cli = typer.Typer()
    cli.add_typer(compliance_app, name="compliance")
    try:
        result = await asyncio.to_thread(
            runner.invoke, cli, ["compliance", "report", "--as-of", AS_OF, "--format", "json"]
        )
        table = await asyncio.to_thread(
            runner.invoke, cli, ["compliance", "report", "--as-of", AS_OF, "--unit", "浙江省人民政府"]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["totals"]["overdue"] == 9
    assert table.exit_code == 0 and "杭州市人民政府" in table.stdout and "南京" not in table.stdout
