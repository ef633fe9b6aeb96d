"""The `syndicator` command line: operators' and scripts' entry point (names fixed in DESIGN.md)."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.admin import account_by_ref
from syndicator.articles import ArticleIn, IngestOutcome, ingest_article
from syndicator.cli.admin import accounts_app, units_app, users_app
from syndicator.cli.comments import comments_app
from syndicator.cli.compliance import compliance_app
from syndicator.cli.review import check, review_app
from syndicator.cli.startup import checked_settings, start_process, warn_unusable_accounts
from syndicator.cli.support import CLI_ACTOR, fail, in_transaction, on_queue, print_rows, redis_down_message
from syndicator.config import get_settings
from syndicator.log import configure_logging
from syndicator.models import PublicationState
from syndicator.pipeline.withdrawal import request_withdrawal
from syndicator.publications import list_with_names, retry_failed_of_account, retry_publication
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


@app.callback()
def _every_command() -> None:
    # Before any command logs: to stderr, so a command's stdout is only its output.
    configure_logging()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all database migrations, and say which."""
    from syndicator.migrate import revisions_between, upgrade
    from syndicator.preflight import describe_database_error

    settings = checked_settings()
    before = asyncio.run(_revisions(settings.database_url))
    try:
        upgrade(settings.database_url)
    except Exception as exc:  # the driver's error, as one line naming the setting
        raise fail(describe_database_error(exc, settings.database_url)) from None
    after = asyncio.run(_revisions(settings.database_url))
    applied = revisions_between(before, after)
    for line in applied:
        typer.echo(f"applied {line}")
    note = "" if applied else "; nothing to apply"
    typer.echo(f"database is at the latest schema ({', '.join(sorted(after))}){note}")


async def _revisions(url: str) -> set[str]:
    from syndicator.preflight import (
        StartupError,
        describe_database_error,
        open_checked_database,
        schema_revisions,
    )

    try:
        db = open_checked_database(url)
    except StartupError as exc:
        raise fail(str(exc)) from None
    try:
        return await schema_revisions(db)
    except Exception as exc:
        raise fail(describe_database_error(exc, url)) from None
    finally:
        await db.dispose()


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the HTTP API (ingest webhook, REST API, health, metrics)."""
    import uvicorn

    from syndicator.api.app import create_app

    settings = start_process("serve")
    uvicorn.run(create_app(settings), host=host, port=port)


@app.command()
def sign(
    file: Annotated[Path | None, typer.Argument(help="the exact body to send (none: empty body)")] = None,
    method: Annotated[str, typer.Option(help="the HTTP method the request will use")] = "POST",
    path: Annotated[str, typer.Option(help="the request path, without the query")] = "/api/v1/articles",
) -> None:
    """Print the signature headers for a portal request (the secret is SYNDICATOR_INGEST_SECRET).

    For integrators: the signing string is "{timestamp}.{METHOD}.{path}.{raw body}" (HMAC-SHA256,
    hex, prefixed "sha256="); send the body byte for byte as signed, within 300 s.
    """
    from channels.signing import signed_headers

    secret = get_settings().ingest_secret.get_secret_value()
    if not secret:
        raise fail("SYNDICATOR_INGEST_SECRET is not set")
    body = file.read_bytes() if file is not None else b""
    for name, value in signed_headers(secret, method, path, body).items():
        typer.echo(f"{name}: {value}")


@app.command()
def worker() -> None:
    """Run a fan-out worker (arq) with the reconciler cron; it rides out Redis outages."""
    from syndicator.resilience import run_worker_forever
    from syndicator.worker import PipelineWorker, worker_settings

    settings = start_process("worker")
    asyncio.run(warn_unusable_accounts(settings))

    def make_worker() -> PipelineWorker:
        options = worker_settings(settings)
        options["redis_settings"].conn_retries = 0  # run_worker_forever backs off and logs once a minute
        return PipelineWorker(**options)

    asyncio.run(run_worker_forever(make_worker))


@app.command()
def bot() -> None:
    """Run the chat front ends (SYNDICATOR_CHAT_FRONTENDS): the Telegram bot and/or the WeCom sender;
    they wait out Telegram, WeCom and Redis outages."""
    from aiogram.exceptions import TelegramUnauthorizedError

    from syndicator.bot.client import TelegramNotConfiguredError
    from syndicator.chat import run_chat
    from syndicator.wecom.client import WeComNotConfiguredError

    settings = start_process("bot")
    try:
        asyncio.run(run_chat(settings))
    except (TelegramNotConfiguredError, WeComNotConfiguredError) as exc:
        raise fail(str(exc)) from None
    except TelegramUnauthorizedError:
        raise fail(
            "Telegram refused SYNDICATOR_TELEGRAM_TOKEN (Unauthorized): use the bot's token from @BotFather"
        ) from None
    except KeyboardInterrupt:
        pass


@app.command()
def ingest(files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Ingest article JSON files as the portal webhook would, and queue their fan-out.

    Every file is checked first; if any is invalid, each problem is reported and nothing is ingested."""
    checked = [(path, *_read_article(path)) for path in files]
    problems = [(path, problem) for path, _, problem in checked if problem]
    if problems:
        for path, problem in problems:
            typer.secho(f"error: {path}: {problem}", err=True, fg=typer.colors.RED)
        raise fail(f"{len(problems)} of {len(files)} file(s) invalid; nothing was ingested")
    for path, payload, _ in checked:
        assert payload is not None

        async def work(
            session: AsyncSession, payload: ArticleIn = payload, path: Path = path
        ) -> IngestOutcome:
            return await ingest_article(
                session, payload, actor=CLI_ACTOR, source=str(path), review=review_policy(get_settings())
            )

        outcome = in_transaction(work)
        on_queue(partial(enqueue_publish_all, publication_ids=outcome.publication_ids))
        typer.echo(
            f"{path}: article {outcome.article.id} {outcome.status}, "
            f"version {outcome.version.number}, {len(outcome.publication_ids)} publication(s) queued"
        )


def _read_article(path: Path) -> tuple[ArticleIn | None, str | None]:
    """The article in `path`, or what is wrong with it (JSON errors with line and column)."""
    try:
        data = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    try:
        return ArticleIn.model_validate(data), None
    except ValidationError as exc:
        fields = [
            f"field {'.'.join(map(str, e['loc'])) or '(the document)'}: {e['msg']}" for e in exc.errors()
        ]
        return None, "; ".join(fields)


@publications_app.command("list")
def publications_list(
    state: Annotated[PublicationState | None, typer.Option(help="failed is the dead-letter view")] = None,
    limit: int = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    rows = [
        {
            "id": p.id,
            "article": p.article_id,
            "title": title if as_json else _cut(title, 24),
            "account": account,
            "platform": platform,
            "state": p.state,
            "attempts": p.attempts,
            "remote_id": p.remote_id or "",
            "code": p.error_code or "",
            "error": (p.error_message or "")[:80],
        }
        for p, title, account, platform in in_transaction(
            lambda s: list_with_names(s, state=state, limit=limit)
        )
    ]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2)) if as_json else print_rows(rows)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@publications_app.command("retry")
def publications_retry(
    publication_id: Annotated[int | None, typer.Argument()] = None,
    account: Annotated[
        str | None,
        typer.Option(help="every failed publication of this account (id or name), e.g. after a fix"),
    ] = None,
) -> None:
    """Send a failed (dead-lettered) publication again, or every failed one of an account."""
    if (publication_id is None) == (account is None):
        raise fail("give a publication id or --account, not both")

    async def work(session: AsyncSession) -> list[Any]:
        if publication_id is not None:
            return [await retry_publication(session, publication_id, actor=CLI_ACTOR)]
        return await retry_failed_of_account(
            session, (await account_by_ref(session, account or "")).id, actor=CLI_ACTOR
        )

    retried = in_transaction(work)
    if not retried:
        typer.echo("no failed publications")
        return

    async def enqueue_all(redis: Any) -> None:
        for publication in retried:
            await enqueue_publish(redis, publication.id, publication.generation)

    if on_queue(enqueue_all):
        typer.echo(f"{len(retried)} publication(s) queued again: {', '.join(str(p.id) for p in retried)}")


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
    from syndicator.context import open_worker_context

    async def run() -> list[Any]:
        async with open_worker_context(get_settings()) as deps:
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
            "answer": d.answer or "",
            "title": d.title[:30],
        }
        for d in drifts
    ]
    typer.echo(json.dumps(rows, ensure_ascii=False, indent=2)) if as_json else print_rows(rows)
    unresolved = [d for d in drifts if not d.fixed]
    raise typer.Exit(1 if unresolved else 0)


@app.command()
def doctor() -> None:
    """Check database + schema, Redis, account secrets and credentials, Telegram and the clock."""
    from syndicator.doctor import run_doctor

    configure_logging("ERROR")  # the table is the output
    checks = asyncio.run(run_doctor(checked_settings()))
    print_rows([{"check": c.name, "result": "OK" if c.ok else "FAIL", "detail": c.detail} for c in checks])
    raise typer.Exit(0 if all(c.ok for c in checks) else 1)


@app.command()
def emulators(
    platform: Annotated[list[str] | None, typer.Option(help="app|wechat|weibo (repeat)")] = None,
    port: Annotated[int, typer.Option(help="the first port; each further platform takes the next")] = 8081,
    host: str = "127.0.0.1",
    unit: Annotated[str, typer.Option(help="the unit named in the printed `accounts add` lines")] = "UNIT",
) -> None:
    """Serve the platform emulators for an offline rehearsal; print their credentials and account lines."""
    from syndicator import rehearsal

    try:
        running = rehearsal.plan(platform or list(rehearsal.EMULATED), host, port)
    except ValueError as exc:
        raise fail(str(exc)) from None
    for r in running:
        typer.echo(f"{r.emulated.platform:7} emulator at {r.url}")
    typer.echo("\n" + rehearsal.instructions(running, unit) + "\n\nCtrl-C stops the emulators.")
    try:
        asyncio.run(rehearsal.serve(running, host))
    except KeyboardInterrupt:
        pass


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
