"""Compliance report benchmark on PostgreSQL: 1,000,000 obligation targets across 3,000 units.

    .venv/bin/python benchmarks/compliance.py [--rebuild]
        [--url postgresql+asyncpg://postgres@127.0.0.1:5432/bench]

Creates the `bench` database (never the test suite's), migrates it, fills it once (kept for
reruns), then times the per-unit report of one province and the dashboard's first paint, against
a baseline measured in the same run (a plain COUNT over the same rows), and prints the key
indexes of the query plans. Targets (issue 16 goal 5): per-unit report < 300 ms, first paint
< 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlmodel import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syndicator import admin  # noqa: E402
from syndicator.api import compliance, dashboard  # noqa: E402
from syndicator.api.app import create_app  # noqa: E402
from syndicator.background_server import BackgroundServer  # noqa: E402
from syndicator.config import Settings  # noqa: E402
from syndicator.db import open_database  # noqa: E402
from syndicator.migrate import upgrade  # noqa: E402
from syndicator.models import Unit, User  # noqa: E402
from syndicator.obligations.clock import SHANGHAI  # noqa: E402
from syndicator.obligations.report import (  # noqa: E402
    ReportQuery,
    load_scope,
    summary_statement,
    targets_statement,
    unit_rows,  # noqa: E402
)

REPORT_GOAL_S, PAINT_GOAL_MS = 0.3, 500.0
PROVINCES, CITIES_PER_PROVINCE, COUNTIES_PER_CITY, UNITS = 31, 12, 6, 3000
TARGETS = 1_000_000
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def ensure_database(url: str) -> None:
    base, _, name = dsn(url).rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def build_units() -> list[tuple[int, str, str, int | None]]:
    units: list[tuple[int, str, str, int | None]] = [(1, "国务院办公厅", "national", None)]
    provinces = []
    for p in range(PROVINCES):
        uid = len(units) + 1
        provinces.append(uid)
        units.append((uid, f"省{p:02d}人民政府", "province", None))
        for c in range(CITIES_PER_PROVINCE):
            cid = len(units) + 1
            units.append((cid, f"省{p:02d}市{c:02d}人民政府", "city", uid))
            for k in range(COUNTIES_PER_CITY):
                units.append((len(units) + 1, f"省{p:02d}市{c:02d}县{k}人民政府", "county", cid))
    d = 0
    while len(units) < UNITS:
        parent = provinces[d % PROVINCES]
        units.append((len(units) + 1, f"省{(parent - 2) // 1:04d}部门{d:03d}", "department", parent))
        d += 1
    return units


async def fill(url: str) -> None:
    conn = await asyncpg.connect(dsn(url))
    rnd = random.Random(7)
    try:
        await conn.execute(
            "TRUNCATE obligation, upstream_item, channel_account, api_token, audit_event, "
            '"user", unit RESTART IDENTITY CASCADE'
        )
        units = build_units()
        created = NOW - timedelta(days=400)
        await conn.copy_records_to_table(
            "unit",
            records=[(*u, created) for u in units],
            columns=["id", "name", "level", "parent_id", "created_at"],
        )
        accounts = [
            (i * 2 + n + 1, uid, platform, f"{name}-{platform}", "active", False, created)
            for i, (uid, name, _, _) in enumerate(units[1:])
            for n, platform in enumerate(("wechat", "weibo"))
        ]
        await conn.copy_records_to_table(
            "channel_account",
            records=accounts,
            columns=["id", "unit_id", "platform", "name", "status", "needs_reauth", "created_at"],
        )
        items = TARGETS // len(accounts) + 1
        item_rows, rows = [], []
        for i in range(items):
            published = (
                NOW - timedelta(days=180) + timedelta(hours=i * 180 * 24 / items, minutes=rnd.randint(0, 59))
            )
            item_rows.append(
                (
                    i + 1,
                    "www.gov.cn",
                    f"bench-{i}",
                    f"国务院办公厅文件{i}",
                    f"https://www.gov.cn/zhengce/bench-{i}.htm",
                    f"国办发〔2026〕{i}号",
                    "国务院办公厅文件",
                    "national",
                    True,
                    published,
                    published,
                )
            )
            deadline = published + timedelta(hours=12)
            for _, uid, *_rest in accounts:
                if len(rows) >= TARGETS:
                    break
                rows.append(_target(rnd, len(rows) + 1, i + 1, uid, _rest, accounts, deadline, published))
        await conn.copy_records_to_table(
            "upstream_item",
            records=item_rows,
            columns=[
                "id",
                "source",
                "guid",
                "title",
                "url",
                "doc_number",
                "category",
                "source_level",
                "important",
                "published_at",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "obligation",
            records=rows,
            columns=[
                "id",
                "item_id",
                "unit_id",
                "account_id",
                "deadline_at",
                "state",
                "fulfilled_at",
                "fulfilled_via",
                "reminders_sent",
                "created_at",
                "updated_at",
            ],
        )
        for table in ("unit", "channel_account", "upstream_item", "obligation"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _target(
    rnd: random.Random,
    oid: int,
    item_id: int,
    unit_id: int,
    rest: list[Any],
    accounts: list[Any],
    deadline: datetime,
    published: datetime,
) -> tuple[Any, ...]:
    account_id = accounts[(oid - 1) % len(accounts)][0]
    roll = rnd.random()
    if deadline > NOW and roll < 0.5:
        return (oid, item_id, unit_id, account_id, deadline, "open", None, None, "[]", published, published)
    if roll < 0.03:
        return (
            oid,
            item_id,
            unit_id,
            account_id,
            deadline,
            "overdue",
            None,
            None,
            '["overdue"]',
            published,
            deadline,
        )
    if roll < 0.04:
        return (oid, item_id, unit_id, account_id, deadline, "waived", None, None, "[]", published, deadline)
    late = roll < 0.11
    at = (
        deadline + timedelta(hours=rnd.uniform(0.1, 30))
        if late
        else published + timedelta(hours=rnd.uniform(0.2, 12))
    )
    state = "fulfilled_late" if late else "fulfilled_on_time"
    return (oid, item_id, unit_id, account_id, deadline, state, at, "publication", "[]", published, at)


async def timed(work: Callable[[], Awaitable[Any]], runs: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    await ensure_database(args.url)
    await asyncio.to_thread(upgrade, args.url)
    conn = await asyncpg.connect(dsn(args.url))
    have = await conn.fetchval("SELECT count(*) FROM obligation")
    await conn.close()
    if args.rebuild or have < TARGETS:
        start = time.perf_counter()
        await fill(args.url)
        print(f"filled {TARGETS:,} targets across {UNITS:,} units in {time.perf_counter() - start:.1f} s")
    await measure(args.url)


async def measure(url: str) -> None:
    db = open_database(url)
    province = 2
    query = ReportQuery(as_of=NOW)
    async with db.transaction() as session:
        _, scope = await load_scope(session, query, user_scope=province)
        assert scope.unit_ids is not None
        conn = await asyncpg.connect(dsn(url))
        rows = await conn.fetchval("SELECT count(*) FROM obligation WHERE unit_id = ANY($1)", scope.unit_ids)
        baseline, _ = await timed(
            lambda: conn.fetchval(
                "SELECT count(*) FROM obligation WHERE unit_id = ANY($1) AND created_at <= $2",
                scope.unit_ids,
                NOW,
            )
        )

        async def report() -> Any:
            tree, sc = await load_scope(session, query, user_scope=province)
            return await unit_rows(session, sc, tree)

        report_s, units = await timed(report)
        print(f"province scope: {len(scope.unit_ids)} units, {rows:,} targets")
        print(f"baseline COUNT(*) over the same rows: {baseline * 1000:.1f} ms")
        print(
            f"per-unit report (on-time %, late, overdue, median and p90 delay): {report_s * 1000:.1f} ms "
            f"({len(units)} units; {report_s / baseline:.1f}x the baseline) "
            f"-> goal < {REPORT_GOAL_S * 1000:g} ms {'MET' if report_s < REPORT_GOAL_S else 'NOT MET'}"
        )
        for label, statement in (
            ("per-unit summary", summary_statement(scope, "postgresql")),
            ("overdue list", targets_statement(scope, only_overdue=True).limit(100)),
        ):
            await explain(conn, db, label, statement)
        await conn.close()
    await db.dispose()
    await dashboard_paint(url, province)


async def explain(conn: asyncpg.Connection, db: Any, label: str, statement: Any) -> None:
    compiled = statement.compile(dialect=db.engine.dialect, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup]
    plan = await conn.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + compiled.string, *params)
    lines = [r[0] for r in plan]
    used = sorted(
        {ln.split(" using ")[1].split()[0] for ln in lines if " using " in ln}
        | {ln.split("Index Scan on ")[1].split()[0] for ln in lines if "Bitmap Index Scan on " in ln}
    )
    seq = sorted({ln.split("Seq Scan on ")[1].split()[0] for ln in lines if "Seq Scan on " in ln})
    total = next((ln for ln in lines if ln.startswith("Execution Time")), "")
    print(f"EXPLAIN {label}: indexes {used or '-'}; seq scans {seq or '-'}; {total}")


async def dashboard_paint(url: str, province_id: int) -> None:
    settings = Settings(database_url=url, ingest_secret="bench-secret")
    db = open_database(url)
    async with db.transaction() as session:
        province = (await session.exec(select(Unit).where(Unit.id == province_id))).one()
        if (await session.exec(select(User).where(User.name == "bench-officer"))).first() is None:
            await admin.add_user(
                session, "bench-officer", ["officer"], telegram_id=None, scope=province.name, actor="bench"
            )
        token = await admin.issue_token(session, "bench-officer", actor="bench")
    await db.dispose()
    app = create_app(settings)
    app.include_router(compliance.router)
    app.include_router(dashboard.router)
    as_of = NOW.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    with BackgroundServer(app) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            form = await client.get("/dashboard/login")
            csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
            await client.post(
                "/dashboard/login", data={"name": "bench-officer", "token": token, "csrf": csrf}
            )
            page_s, page = await timed(lambda: client.get("/dashboard", params={"as_of": as_of}))
            assert page.status_code == 200, page.status_code
            print(
                f"dashboard HTML (server render + transfer, {len(page.content) // 1024} KiB): "
                f"{page_s * 1000:.1f} ms"
            )
            await asyncio.to_thread(browser_paint, server.url, token, as_of)


def browser_paint(base: str, token: str, as_of: str) -> None:
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("first paint in a browser: skipped (playwright not installed)")
        return
    if chromium is None:
        print("first paint in a browser: skipped (chromium not installed)")
        return
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        page = browser.new_page()
        page.goto(f"{base}/dashboard/login")
        page.fill("input[name=name]", "bench-officer")
        page.fill("input[name=token]", token)
        page.click("button[type=submit]")
        paints = []
        for _ in range(3):
            page.goto(f"{base}/dashboard?as_of={as_of}")
            paints.append(
                page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1")
            )
        browser.close()
    fcp = statistics.median(paints)
    print(
        f"dashboard first contentful paint in headless Chromium (from navigation start): {fcp:.0f} ms "
        f"-> goal < {PAINT_GOAL_MS:g} ms {'MET' if 0 <= fcp < PAINT_GOAL_MS else 'NOT MET'}"
    )


if __name__ == "__main__":
    asyncio.run(main())
