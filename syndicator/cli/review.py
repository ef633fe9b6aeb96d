"""`syndicator check` and `syndicator review`: the pre-publish checks and held versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator import admin
from syndicator.checks.base import CheckInput, Severity
from syndicator.cli.support import fail, in_transaction, on_queue, print_rows
from syndicator.config import get_settings
from syndicator.queue import enqueue_publish_all
from syndicator.review import (
    contact_allowlist,
    held_versions,
    reject_version,
    release_version,
    wording_dictionary,
)

review_app = typer.Typer(help="Article versions held by the pre-publish checks.", no_args_is_help=True)


def check(
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    contact_phone: Annotated[
        list[str] | None, typer.Option(help="a number the unit publishes as its own; repeat for more")
    ] = None,
    links: Annotated[
        bool, typer.Option("--links", help="also probe the articles' links and attachments (network)")
    ] = False,
) -> None:
    """Run the pre-publish checks on article JSON files; exit 0 clean, 1 warnings only, 2 held."""
    from dataclasses import replace

    from syndicator.checks.base import CheckInput
    from syndicator.checks.pii import normalize_contact
    from syndicator.checks.report import exit_code, format_table, to_json
    from syndicator.checks.runner import run_checks

    settings = get_settings()
    wording = wording_dictionary(settings.wording_file)
    allowed = contact_allowlist(settings.contact_allowlist_file) | {
        normalize_contact(p) for p in contact_phone or ()
    }
    results = []
    for path in files:
        try:
            article = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise fail(f"{path}: not an article JSON file ({exc})") from None
        inp = replace(CheckInput.from_article(article), allowed_contacts=allowed)
        if links:
            inp = _with_link_statuses(inp)
        results.append((str(path), run_checks(inp, wording=wording)))
    typer.echo(to_json(results) if as_json else "\n".join(format_table(label, r) for label, r in results))
    raise typer.Exit(exit_code(r for _, r in results))


def _with_link_statuses(inp: CheckInput) -> CheckInput:
    """The same gathering the webhook does (safe fetcher), without the Redis cache."""
    import asyncio
    from dataclasses import replace

    from syndicator.linkcheck import link_checker

    settings = get_settings()
    # Asked for: "off" means warn here.
    severity: Severity = "block" if settings.link_check == "block" else "warn"
    checker = link_checker(settings.model_copy(update={"link_check": severity}), None)
    assert checker is not None

    async def gather() -> CheckInput:
        try:
            statuses = await checker.for_article(inp.body_html, inp.url, inp.source_portal)
        finally:
            await checker.aclose()
        return replace(inp, links=statuses, link_severity=severity)

    return asyncio.run(gather())


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
