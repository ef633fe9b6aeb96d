"""Upstream important policy pushed through the webhook opens obligations; a repost fulfils them."""

from __future__ import annotations

from sqlmodel import select

from syndicator import admin
from syndicator.demo.obligations import UPSTREAM_UNIT, repost_by, upstream_item
from syndicator.models import Obligation, ObligationState, UpstreamItem
from tests.support import corpus_articles, post_signed, run_worker, seed_units_with_app_accounts


async def test_pushed_item_opens_targets_and_a_repost_fulfils_them_on_time(
    db, settings, api, app_emulator
) -> None:
    articles = corpus_articles()
    await seed_units_with_app_accounts(db, app_emulator.url, articles)
    async with db.transaction() as session:
        await admin.add_unit(session, UPSTREAM_UNIT, "national", None, actor="test")
    assert (await post_signed(api, upstream_item())).status_code == 202
    async with db.transaction() as session:
        (item,) = (await session.exec(select(UpstreamItem))).all()
        targets = (await session.exec(select(Obligation))).all()
    assert item.important and item.doc_number == "国办发〔2018〕123号"
    assert len(targets) == 4  # one app account for each of the four units below the national level

    reposting = articles[-1]
    await post_signed(api, repost_by(reposting["unit"], reposting["source_portal"]))
    await run_worker(settings)
    async with db.transaction() as session:
        states = sorted(t.state for t in (await session.exec(select(Obligation))).all())
    assert states == [ObligationState.FULFILLED_ON_TIME] + [ObligationState.OPEN] * 3
