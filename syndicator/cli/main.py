"""The `syndicator` command line: operators' and scripts' entry point (names fixed in DESIGN.md)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.articles import ArticleIn, ingest_article
from syndicator.cli.admin import accounts_app, units_app, users_app
from syndicator.cli.comments import comments_app
from syndicator.cli.review import check, review_app
from syndicator.cli.support import CLI_ACTOR, fail, in_transaction, on_queue, print_rows, redis_down_message
from syndicator.config import get_settings
from syndicator.log import configure_logging
from syndicator.obligations.cli import compliance_app
from syndicator.pipeline.withdrawal import request_withdrawal
from syndicator.publications import list_publications, retry_publication
from syndicator.queue import WITHDRAW_JOB, enqueue_publish, enqueue_publish_all
from syndicator.review import (
    review_policy,
)

app = typer.Typer(
    help="Syndicate portal articles to WeChat, Weibo and the app, and keep them accountable.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
publications_app = typer.Typer(help="Publications of articles on accounts.", no_args_is_help=True)
for sub, name in (
    (db_app, "db"),
    (units_app, "units"),
    (accounts_app, "accounts"),
    (users_app, "users"),
    (publications_app, "publications"),
    (review_app, "review"),
    (compliance_app, "compliance"),
    (comments_app, "comments"),
):
    app.add_typer(sub, name=name)
app.command()(check)


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
def bot() -> None:
    """Run the moderator bot (Telegram long polling)."""
    from syndicator.bot.app import TelegramNotConfiguredError, run_bot

    configure_logging()
    try:
        asyncio.run(run_bot(get_settings()))
    except TelegramNotConfiguredError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        pass


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
def demo(
    corpus: Annotated[Path | None, typer.Option(help="folder of portal article JSON files")] = None,
    timeout: float = 120.0,
) -> None:
    """Run the whole pipeline on the shipped corpus against local emulators and print what was published."""
    from syndicator.demo.run import run_demo

    configure_logging("WARNING")  # the summary table is the output
    ok = asyncio.run(run_demo(get_settings(), corpus_dir=corpus, timeout=timeout))
    raise typer.Exit(0 if ok else 1)
