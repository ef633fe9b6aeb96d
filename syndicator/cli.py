"""The `syndicator` command line: operators' and scripts' entry point (names fixed in DESIGN.md)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from arq import ArqRedis
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import admin
from syndicator.articles import ArticleIn, UnknownUnitError, ingest_article
from syndicator.config import Settings, get_settings
from syndicator.db import open_database
from syndicator.log import configure_logging
from syndicator.models import ChannelAccount, Unit, User
from syndicator.pipeline.withdrawal import WithdrawalError, request_withdrawal
from syndicator.publications import PublicationError, list_publications, retry_publication
from syndicator.queue import WITHDRAW_JOB, connect, enqueue_publish, enqueue_publish_all
from syndicator.review import (
    ReviewError,
    held_versions,
    reject_version,
    release_version,
    review_policy,
    wording_dictionary,
)

app = typer.Typer(
    help="Syndicate portal articles to WeChat, Weibo and the app, and keep them accountable.",
    no_args_is_help=True,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
units_app = typer.Typer(help="Government units.", no_args_is_help=True)
accounts_app = typer.Typer(help="Channel accounts of units.", no_args_is_help=True)
users_app = typer.Typer(help="People, their roles and API tokens.", no_args_is_help=True)
publications_app = typer.Typer(help="Publications of articles on accounts.", no_args_is_help=True)
review_app = typer.Typer(help="Article versions held by the pre-publish checks.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (units_app, "units"),
    (accounts_app, "accounts"),
    (users_app, "users"),
    (publications_app, "publications"),
    (review_app, "review"),
):
    app.add_typer(sub, name=name)

CLI_ACTOR = "cli"
T = TypeVar("T")

KNOWN_ERRORS = (admin.AdminError, PublicationError, ReviewError, UnknownUnitError, WithdrawalError)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction against the configured database; known errors become one line."""

    async def run() -> T:
        database = open_database(get_settings().database_url)
        try:
            async with database.transaction() as session:
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except KNOWN_ERRORS as exc:
        raise fail(str(exc)) from None


def on_queue(work: Callable[[ArqRedis], Awaitable[object]]) -> bool:
    """Run `work` against the queue; False (with a clear message) when Redis is down."""
    settings = get_settings()

    async def run() -> None:
        redis = await connect(settings.redis_url, settings.queue_name)
        try:
            await work(redis)
        finally:
            await redis.aclose()

    try:
        asyncio.run(run())
    except (RedisError, OSError):
        typer.secho(
            redis_down_message(settings) + "; the worker's reconciler sends what is pending once it is",
            err=True,
            fg=typer.colors.YELLOW,
        )
        return False
    return True


def redis_down_message(settings: Settings) -> str:
    return (
        f"Redis is not reachable at {settings.redis_url}; start it with "
        "`redis-server --daemonize yes` or set SYNDICATOR_REDIS_URL"
    )


def print_rows(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    typer.echo("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        typer.echo("  ".join(str(row[c]).ljust(widths[c]) for c in columns))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations."""
    from syndicator.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("database is at the latest schema")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the HTTP API (ingest webhook, REST API, health, metrics)."""
    import uvicorn

    from syndicator.ingest.app import create_app

    configure_logging()
    uvicorn.run(create_app(get_settings()), host=host, port=port)


@app.command()
def worker() -> None:
    """Run a fan-out worker (arq) with the reconciler cron."""
    from arq import Worker

    from syndicator.worker import worker_settings

    configure_logging()
    settings = get_settings()
    try:
        Worker(**worker_settings(settings)).run()
    except (RedisError, OSError) as exc:
        raise fail(f"{redis_down_message(settings)} ({exc})") from None


@app.command()
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Ingest article JSON files as the portal webhook would, and queue their fan-out."""
    for path in files:
        try:
            payload = ArticleIn.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            first = exc.errors()[0]
            raise fail(
                f"{path}: field {'.'.join(map(str, first['loc'])) or 'body'}: {first['msg']}"
            ) from None

        async def work(session: AsyncSession, payload: ArticleIn = payload, path: Path = path) -> Any:
            return await ingest_article(
                session, payload, actor=CLI_ACTOR, source=str(path), review=review_policy(get_settings())
            )

        outcome = in_transaction(work)
        on_queue(lambda redis, ids=outcome.publication_ids: enqueue_publish_all(redis, ids))
        typer.echo(
            f"{path}: article {outcome.article.id} {outcome.status}, "
            f"version {outcome.version.number}, {len(outcome.publication_ids)} publication(s) queued"
        )


@units_app.command("add")
def units_add(
    name: str,
    level: Annotated[str, typer.Option(help="national|province|city|county|department")],
    parent: Annotated[str | None, typer.Option()] = None,
) -> None:
    unit = in_transaction(lambda s: admin.add_unit(s, name, level, parent, actor=CLI_ACTOR))
    typer.echo(f"unit {unit.id} {unit.name} added")


@units_app.command("list")
def units_list() -> None:
    units = in_transaction(lambda s: _all(s, Unit))
    print_rows([{"id": u.id, "name": u.name, "level": u.level, "parent": u.parent_id or ""} for u in units])


@accounts_app.command("add")
def accounts_add(
    unit: Annotated[str, typer.Option()],
    platform: Annotated[str, typer.Option(help="app|wechat|weibo")],
    name: Annotated[str | None, typer.Option()] = None,
    api_base_url: Annotated[str | None, typer.Option(help="point the account at an emulator")] = None,
    app_id: Annotated[str | None, typer.Option()] = None,
    secret_env: Annotated[str | None, typer.Option(help="env var holding the secret")] = None,
    safe_domain: Annotated[str | None, typer.Option()] = None,
    default_cover: Annotated[str | None, typer.Option()] = None,
) -> None:
    account = in_transaction(
        lambda s: admin.add_account(
            s,
            unit=unit,
            platform=platform,
            name=name,
            api_base_url=api_base_url,
            app_id=app_id,
            secret_env=secret_env,
            safe_domain=safe_domain,
            default_cover=default_cover,
            actor=CLI_ACTOR,
        )
    )
    typer.echo(f"account {account.id} {account.name} ({account.platform}) added")


@accounts_app.command("list")
def accounts_list() -> None:
    accounts = in_transaction(lambda s: _all(s, ChannelAccount))
    print_rows(
        [
            {
                "id": a.id,
                "name": a.name,
                "unit": a.unit_id,
                "platform": a.platform,
                "status": a.status,
                "api_base_url": a.api_base_url or "(platform)",
            }
            for a in accounts
        ]
    )


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[list[str], typer.Option(help="admin|editor|reviewer|officer; repeatable")],
    telegram_id: Annotated[int | None, typer.Option()] = None,
    scope: Annotated[str | None, typer.Option(help="a unit: the user sees it and its subordinates")] = None,
) -> None:
    user = in_transaction(
        lambda s: admin.add_user(s, name, role, telegram_id=telegram_id, scope=scope, actor=CLI_ACTOR)
    )
    typer.echo(f"user {user.id} {user.name} added with roles {user.roles}")


@users_app.command("list")
def users_list() -> None:
    users = in_transaction(lambda s: _all(s, User))
    print_rows(
        [
            {
                "id": u.id,
                "name": u.name,
                "roles": u.roles,
                "telegram_id": u.telegram_id or "",
                "active": u.active,
            }
            for u in users
        ]
    )


@users_app.command("token")
def users_token(name: str) -> None:
    """Issue an API token (shown once; only its hash is stored)."""
    typer.echo(in_transaction(lambda s: admin.issue_token(s, name, actor=CLI_ACTOR)))


@users_app.command("revoke")
def users_revoke(name: str) -> None:
    """Revoke every API token of a user."""
    count = in_transaction(lambda s: admin.revoke_tokens(s, name, actor=CLI_ACTOR))
    typer.echo(f"{count} token(s) revoked")


@publications_app.command("list")
def publications_list(
    state: Annotated[str | None, typer.Option(help="e.g. failed")] = None,
    limit: int = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    rows = [
        {
            "id": p.id,
            "article": p.article_id,
            "account": p.account_id,
            "state": p.state,
            "attempts": p.attempts,
            "remote_id": p.remote_id or "",
            "error": (p.error_message or "")[:80],
        }
        for p in in_transaction(lambda s: list_publications(s, state=state, limit=limit))
    ]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2)) if as_json else print_rows(rows)


@publications_app.command("retry")
def publications_retry(publication_id: int) -> None:
    """Send a failed (dead-lettered) publication again."""
    publication = in_transaction(lambda s: retry_publication(s, publication_id, actor=CLI_ACTOR))
    if on_queue(lambda redis: enqueue_publish(redis, publication_id, publication.generation)):
        typer.echo(f"publication {publication_id} queued again")


@app.command()
def withdraw(article_id: int) -> None:
    """Withdraw an article from every channel that shows it."""
    removing = in_transaction(lambda s: request_withdrawal(s, article_id, actor=CLI_ACTOR, source="cli"))
    on_queue(lambda redis: enqueue_publish_all(redis, removing, job=WITHDRAW_JOB))
    typer.echo(f"article {article_id} withdrawn; removing {len(removing)} post(s)")


@app.command("audit")
def audit_command(
    fix: Annotated[bool, typer.Option("--fix", help="re-sync what drifted")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read every live post back and report drift from the current version (exit 1 on drift)."""
    from syndicator.consistency import audit_consistency
    from syndicator.pipeline.context import open_pipeline_deps

    async def run() -> list[Any]:
        async with open_pipeline_deps(get_settings()) as deps:
            return await audit_consistency(deps, fix=fix)

    try:
        drifts = asyncio.run(run())
    except (RedisError, OSError) as exc:
        raise fail(f"{redis_down_message(get_settings())} ({exc})") from None
    rows = [
        {
            "kind": d.kind.value,
            "publication": d.publication_id,
            "platform": d.platform,
            "account": d.account,
            "remote_id": d.remote_id,
            "fixed": d.fixed,
            "error": d.error or "",
            "title": d.title[:30],
        }
        for d in drifts
    ]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2)) if as_json else print_rows(rows)
    unresolved = [d for d in drifts if not d.fixed]
    raise typer.Exit(1 if unresolved else 0)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the pre-publish checks on article JSON files; exit 0 clean, 1 warnings only, 2 held."""
    from syndicator.checks.base import CheckInput
    from syndicator.checks.report import exit_code, format_table, to_json
    from syndicator.checks.runner import run_checks

    wording = wording_dictionary(get_settings().wording_file)
    results = []
    for path in files:
        try:
            article = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: not an article JSON file ({exc})") from None
        results.append((str(path), run_checks(CheckInput.from_article(article), wording=wording)))
    typer.echo(to_json(results) if as_json else "\n".join(format_table(label, r) for label, r in results))
    raise typer.Exit(exit_code(r for _, r in results))


@review_app.command("list")
def review_list() -> None:
    held = in_transaction(held_versions)
    print_rows(
        [
            {
                "version": h.version.id,
                "article": h.article.id,
                "title": h.article.title[:30],
                "findings": "; ".join(
                    f"{f.rule}:{f.matched[:15]}" for f in h.findings if f.severity == "block"
                ),
            }
            for h in held
        ]
    )


@review_app.command("release")
def review_release(
    version_id: int,
    reviewer: Annotated[str, typer.Option("--as", help="the reviewer's user name")],
    reason: Annotated[str, typer.Option()],
) -> None:
    """Release a held version (audited); it then fans out."""

    async def work(session: AsyncSession) -> list[int]:
        return await release_version(session, version_id, await admin.user_by_name(session, reviewer), reason)

    publication_ids = in_transaction(work)
    on_queue(lambda redis: enqueue_publish_all(redis, publication_ids))
    typer.echo(f"version {version_id} released; {len(publication_ids)} publication(s) queued")


@review_app.command("reject")
def review_reject(
    version_id: int,
    reviewer: Annotated[str, typer.Option("--as", help="the reviewer's user name")],
    reason: Annotated[str, typer.Option()],
) -> None:
    """Reject a held version: it is never sent."""

    async def work(session: AsyncSession) -> None:
        await reject_version(session, version_id, await admin.user_by_name(session, reviewer), reason)

    in_transaction(work)
    typer.echo(f"version {version_id} rejected")


@app.command()
def demo(
    corpus: Annotated[Path | None, typer.Option(help="folder of portal article JSON files")] = None,
    timeout: float = 120.0,
) -> None:
    """Run the whole pipeline on the shipped corpus against local emulators and print what was published."""
    from syndicator.demo.run import run_demo

    configure_logging("WARNING")  # the summary table is the output
    ok = asyncio.run(run_demo(get_settings(), corpus_dir=corpus, timeout=timeout))
    raise typer.Exit(0 if ok else 1)


async def _all(session: AsyncSession, model: type[Any]) -> list[Any]:
    return list((await session.exec(select(model).order_by(col(model.id)))).all())
