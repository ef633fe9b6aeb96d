"""`syndicator comments`: where comment intake stands per feed and article, and resuming it."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from syndicator.cli.support import fail, in_transaction, print_rows
from syndicator.models import utcnow
from syndicator.moderation.polling import intake_rows, resume

comments_app = typer.Typer(help="Comment intake: feeds and articles read for comments.", no_args_is_help=True)


@comments_app.command("intake")
def intake_list() -> None:
    """Every intake row: its account, article, when it is read next or since when it stopped."""
    print_rows(in_transaction(intake_rows))


@comments_app.command("resume")
def intake_resume(article_id: Annotated[int, typer.Argument(help="the article (id) to read again")]) -> None:
    """Read an article's comments again after its intake stopped (too old, or the article's
    comments were closed); the cadence starts again as for a new article."""

    async def work(session: AsyncSession) -> int:
        return await resume(session, article_id=article_id, now=utcnow())

    resumed = in_transaction(work)
    if not resumed:
        raise fail(f"article {article_id} has no comment intake (not published on a per-article channel)")
    typer.echo(f"已恢复 {resumed} 个评论读取（文章 #{article_id}）")
