"""The adapter publishing against the emulator over real HTTP: happy paths, images, read-back."""

from __future__ import annotations

import httpx
import pytest
from weibo_support import PNG, Emulator, make_account, make_article

from channels.base import CorrectionStrategy, OutcomeUnknownError, PermanentError, Platform
from channels.registry import build_adapter
from channels.weibo.adapter import WeiboAdapter


async def test_publish_shares_the_status_once_with_rip(adapter: WeiboAdapter, emulator: Emulator) -> None:
    post = adapter.render(make_article())
    result = await adapter.publish(post, key="pub:1:1")
    state = await emulator.state()
    assert [share["id"] for share in state["shares"]] == [result.remote_id]
    assert state["shares"][0]["status"] == post.body
    assert state["shares"][0]["rip"] == "203.0.113.7"
    assert result.state == "published"
    assert result.details["text"].startswith("【关于加强政府网站信息内容建设的通知】")
    assert "http://t.cn/" in result.details["text"]  # Weibo shows links as t.cn short links


async def test_an_image_is_uploaded_as_pic(
    adapter: WeiboAdapter, emulator: Emulator, portal_url: str
) -> None:
    post = adapter.render(make_article(body_html=f'<p>通知</p><img src="{portal_url}/img/seal.png">'))
    result = await adapter.publish(post, key="pub:2:1")
    state = await emulator.state()
    assert state["shares"][0]["pic_bytes"] == len(PNG)
    status = next(s for s in state["statuses"] if s["idstr"] == result.remote_id)
    assert status["original_pic"].startswith("https://")


@pytest.mark.parametrize("path", ["/img/huge.jpg", "/img/missing.png"])
async def test_an_oversized_or_missing_image_is_left_out(
    adapter: WeiboAdapter, emulator: Emulator, portal_url: str, path: str
) -> None:
    post = adapter.render(make_article(body_html=f'<p>通知</p><img src="{portal_url}{path}">'))
    await adapter.publish(post, key="pub:3:1")
    state = await emulator.state()
    assert [share["pic_bytes"] for share in state["shares"]] == [0]


async def test_a_link_off_the_safe_domain_is_refused_before_sending(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    post = adapter.render(make_article(url="https://www.example.com/art/1.html"))
    with pytest.raises(PermanentError) as caught:
        await adapter.publish(post, key="pub:4:1")
    assert caught.value.code == "20018"
    assert "safe domain" in caught.value.message
    assert (await emulator.state())["shares"] == []


async def test_an_account_without_safe_domain_cannot_publish(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    adapter = WeiboAdapter(account=make_account(emulator.url, safe_domain=None), http=http, rip="203.0.113.7")
    with pytest.raises(PermanentError, match="safe domain"):
        await adapter.publish(adapter.render(make_article()), key="pub:5:1")


@pytest.mark.parametrize("kind", ["timeout_after", "drop_after"])
async def test_crash_after_send_is_recovered_without_a_second_post(
    adapter: WeiboAdapter, emulator: Emulator, kind: str
) -> None:
    post = adapter.render(make_article())
    await emulator.faults({"kind": kind, "path": "/statuses/share"})
    with pytest.raises(OutcomeUnknownError):
        await adapter.publish(post, key="pub:6:1")
    recovered = await adapter.recover(post, key="pub:6:1")
    state = await emulator.state()
    assert recovered is not None
    assert [share["id"] for share in state["shares"]] == [recovered.remote_id]


async def test_timeout_before_send_recovers_nothing_and_the_retry_posts_once(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    post = adapter.render(make_article())
    await emulator.faults({"kind": "timeout_before", "path": "/statuses/share"})
    with pytest.raises(OutcomeUnknownError):
        await adapter.publish(post, key="pub:7:1")
    assert await adapter.recover(post, key="pub:7:1") is None
    result = await adapter.publish(post, key="pub:7:1")
    assert [share["id"] for share in (await emulator.state())["shares"]] == [result.remote_id]


async def test_repeated_content_adopts_the_existing_status(adapter: WeiboAdapter, emulator: Emulator) -> None:
    post = adapter.render(make_article())
    first = await adapter.publish(post, key="pub:8:1")
    again = await adapter.publish(post, key="pub:8:1")
    assert again.remote_id == first.remote_id
    assert len((await emulator.state())["shares"]) == 1


async def test_repeated_content_that_is_not_ours_stays_an_error(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    body = {"request": "/2/statuses/share.json", "error_code": 20019, "error": "repeat content!"}
    await emulator.faults({"kind": "answer", "status": 400, "body": body, "path": "/statuses/share"})
    with pytest.raises(PermanentError) as caught:
        await adapter.publish(adapter.render(make_article()), key="pub:9:1")
    assert caught.value.code == "20019"


async def test_withdraw_then_fetch_live_returns_none(adapter: WeiboAdapter) -> None:
    article = make_article()
    result = await adapter.publish(adapter.render(article), key="pub:10:1")
    live = await adapter.fetch_live(result.remote_id)
    assert live is not None and live.title == article.title
    await adapter.withdraw(result.remote_id)
    assert await adapter.fetch_live(result.remote_id) is None
    await adapter.withdraw(result.remote_id)  # withdrawing twice is harmless


async def test_update_destroys_the_old_status_and_shares_the_new(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    old = await adapter.publish(adapter.render(make_article()), key="pub:11:1")
    corrected = adapter.render(make_article(title="关于加强政府网站信息内容建设的通知（更正）", version=2))
    new = await adapter.update(old.remote_id, corrected, key="pub:11:2")
    assert new.remote_id != old.remote_id
    assert await adapter.fetch_live(old.remote_id) is None
    live = await adapter.fetch_live(new.remote_id)
    assert live is not None and "更正" in live.title
    assert len((await emulator.state())["shares"]) == 2


async def test_update_refuses_an_unpostable_correction_before_destroying(adapter: WeiboAdapter) -> None:
    old = await adapter.publish(adapter.render(make_article()), key="pub:12:1")
    foreign = adapter.render(make_article(url="https://www.example.com/art/1.html", version=2))
    with pytest.raises(PermanentError):
        await adapter.update(old.remote_id, foreign, key="pub:12:2")
    assert await adapter.fetch_live(old.remote_id) is not None


async def test_check_status_returns_the_synchronous_result(adapter: WeiboAdapter) -> None:
    result = await adapter.publish(adapter.render(make_article()), key="pub:13:1")
    assert await adapter.check_status(result) is result


async def test_the_registry_builds_a_weibo_adapter_with_stated_capabilities(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    adapter = build_adapter(make_account(emulator.url), http)
    assert isinstance(adapter, WeiboAdapter)
    assert make_account(emulator.url).platform is Platform.WEIBO
    capabilities = adapter.capabilities
    assert capabilities.correction is CorrectionStrategy.REPUBLISH
    assert capabilities.can_withdraw and not capabilities.comments_premoderated
    assert not capabilities.idempotent_publish and not capabilities.asynchronous_publish


async def test_recover_does_not_adopt_an_older_version_with_the_same_link(
    adapter: WeiboAdapter, emulator: Emulator
) -> None:
    await adapter.publish(adapter.render(make_article()), key="pub:14:1")
    corrected = adapter.render(make_article(title="关于加强政府网站信息内容建设的通知（修订）", version=2))
    assert corrected.link in (await emulator.state())["shares"][0]["status"]
    assert await adapter.recover(corrected, key="pub:14:2") is None
