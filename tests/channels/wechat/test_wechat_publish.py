"""Publishing through the emulator: material -> draft -> freepublish, read back, withdraw."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from channels.base import OutcomeUnknownError, PermanentError, TransientError
from channels.faults import Fault
from channels.http import make_http_client


async def test_publish_is_submitted_then_published(adapter, make_article, emulator, publish_live):
    post = adapter.render(make_article())
    submitted = await adapter.publish(post, "pub-1")
    assert submitted.state == "submitted"
    assert submitted.remote_id == submitted.details["publish_id"]
    assert submitted.details["media_id"].startswith("draft_")

    result = await publish_live(adapter, post, "pub-1")

    assert result.state == "published"
    assert result.url and result.url.startswith("https://mp.weixin.qq.com/s/")
    assert result.details["publish_id"] == submitted.remote_id
    assert result.details["article_id"] == result.remote_id
    assert result.details["msg_data_id"]
    assert len(emulator.state()["submissions"]) == 1


async def test_draft_carries_title_digest_source_url_and_rehosted_images(
    adapter, make_article, emulator, portal
):
    post = adapter.render(make_article())
    await adapter.publish(post, "pub-1")

    [job] = emulator.app.state.wechat.jobs.values()
    [sent] = job["articles"]
    assert (sent["title"], sent["digest"], sent["content_source_url"]) == (
        post.title,
        post.summary,
        post.link,
    )
    image_sources = re.findall(r'<img[^>]*src="([^"]+)"', sent["content"])
    assert image_sources == emulator.state()["hosted_images"]  # none filtered out, none left on the portal
    assert portal.hits == {"figure-1.png": 2}  # once as the cover, once re-hosted inline


async def test_retry_after_a_failed_submit_uploads_nothing_twice(adapter, make_article, emulator, portal):
    post = adapter.render(make_article())
    emulator.inject(emulator.answer("freepublish/submit", -1, "system error"))
    with pytest.raises(TransientError):
        await adapter.publish(post, "pub-1")
    uploads = dict(emulator.state()["media"])

    await adapter.publish(post, "pub-1")

    state = emulator.state()
    assert state["media"] == uploads
    assert len(state["submissions"]) == 1
    assert len(state["drafts"]) == 0  # the one draft was submitted
    assert portal.hits == {"figure-1.png": 2}


async def test_publishing_the_same_key_again_returns_the_first_submission(adapter, make_article, emulator):
    post = adapter.render(make_article())
    first = await adapter.publish(post, "pub-1")
    second = await adapter.publish(post, "pub-1")
    assert second == first
    assert len(emulator.state()["submissions"]) == 1


async def test_default_cover_is_used_when_the_article_has_no_image(adapter, make_article, emulator, portal):
    post = adapter.render(make_article(body_html="<p>正文。</p>"))
    await adapter.publish(post, "pub-1")
    [cover] = emulator.state()["media"].values()
    assert cover["type"] == "thumb" and cover["filename"] == "cover.png"
    assert portal.hits == {}


async def test_no_image_and_no_default_cover_is_permanent(make_adapter, make_article):
    adapter = make_adapter(default_cover=None)
    with pytest.raises(PermanentError, match="cover"):
        await adapter.publish(adapter.render(make_article(body_html="<p>正文。</p>")), "pub-1")


async def test_missing_portal_image_is_permanent(adapter, make_article):
    post = adapter.render(make_article(body_html='<p><img src="/images/missing.png"></p>'))
    with pytest.raises(PermanentError, match="404"):
        await adapter.publish(post, "pub-1")


async def test_overlong_title_and_content_are_refused_before_sending(adapter, make_article, emulator):
    post = adapter.render(make_article())
    with pytest.raises(PermanentError) as title_error:
        await adapter.publish(replace(post, title="标" * 33), "pub-1")
    with pytest.raises(PermanentError) as size_error:
        await adapter.publish(replace(post, body="字" * 20_000), "pub-2")
    assert (title_error.value.code, size_error.value.code) == ("title_too_long", "content_too_long")
    assert emulator.state()["media"] == {}


@pytest.mark.parametrize(
    ("article", "errcode"),
    [
        ({"title": "标" * 33, "content": "<p>x</p>"}, 45003),
        ({"title": "标题", "content": "字" * 20_000}, 45002),
        ({"title": "标题", "content": "<p>x</p>", "digest": "摘" * 121}, 45004),
        ({"title": "标题", "content": "<p>x</p>", "thumb_media_id": "nope"}, 40007),
    ],
)
def test_emulator_validates_drafts_like_wechat(emulator, article, errcode):
    token = emulator.control.post(
        "/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": emulator.app.state.wechat.app_id,
              "secret": emulator.app.state.wechat.app_secret},
    ).json()["access_token"]  # fmt: skip
    answer = emulator.control.post(f"/cgi-bin/draft/add?access_token={token}", json={"articles": [article]})
    assert answer.status_code == 200
    assert answer.json()["errcode"] == errcode


@pytest.mark.parametrize(
    ("status", "code"),
    [(2, "publish_status_2"), (3, "publish_status_3"), (4, "publish_status_4"), (6, "withdrawn_externally")],
)
async def test_failed_publish_status_is_permanent(adapter, make_article, emulator, eventually, status, code):
    emulator.post("publish_outcomes", {"statuses": [status]})
    submitted = await adapter.publish(adapter.render(make_article()), "pub-1")

    async def probe() -> PermanentError | None:
        try:
            await adapter.check_status(submitted)
        except PermanentError as exc:
            return exc
        return None

    error = await eventually(probe)
    assert error.code == code


async def test_article_deleted_outside_syndicator_reads_as_withdrawn(adapter, make_article, publish_live):
    post = adapter.render(make_article())
    published = await publish_live(adapter, post, "pub-1")
    await adapter.withdraw(published.remote_id)
    with pytest.raises(PermanentError) as error:
        await adapter.check_status(published)
    assert error.value.code == "withdrawn_externally"


async def test_fetch_live_then_withdraw(adapter, make_article, publish_live):
    post = adapter.render(make_article())
    published = await publish_live(adapter, post, "pub-1")

    live = await adapter.fetch_live(published.remote_id)
    assert live is not None and live.title == post.title and live.url == published.url
    await adapter.withdraw(published.remote_id)
    assert await adapter.fetch_live(published.remote_id) is None


async def test_update_withdraws_and_republishes(adapter, make_article, publish_live, emulator):
    first = await publish_live(adapter, adapter.render(make_article()), "pub-1")
    corrected = adapter.render(make_article(title="关于进一步加强政务新媒体管理的通知（修订）", version=2))

    submitted = await adapter.update(first.remote_id, corrected, "pub-1-v2")

    assert submitted.state == "submitted"
    assert await adapter.fetch_live(first.remote_id) is None
    assert [s["title"] for s in emulator.state()["submissions"]][1] == corrected.title


async def test_submit_timeout_is_recovered_without_publishing_twice(
    make_adapter, make_article, emulator, eventually
):
    async with make_http_client(timeout_seconds=0.5) as impatient:
        adapter = make_adapter(http=impatient)
        post = adapter.render(make_article())
        emulator.inject(Fault(kind="timeout_after", path="freepublish/submit"), hang_seconds=2)
        with pytest.raises(OutcomeUnknownError):
            await adapter.publish(post, "pub-1")

        async def probe():
            try:
                return await adapter.recover(post, "pub-1")
            except OutcomeUnknownError:  # submitted, not yet among the published articles
                return None

        found = await eventually(probe)
        assert found.state == "published"
        assert await adapter.check_status(found) == found
        with pytest.raises(OutcomeUnknownError):  # a blind retry cannot publish the draft again
            await adapter.publish(post, "pub-1")
    assert len(emulator.state()["submissions"]) == 1
    assert found.remote_id in emulator.state()["articles"]


async def test_recover_says_none_when_the_submit_never_arrived(make_adapter, make_article, emulator):
    async with make_http_client(timeout_seconds=0.5) as impatient:
        adapter = make_adapter(http=impatient)
        post = adapter.render(make_article())
        emulator.inject(Fault(kind="timeout_before", path="freepublish/submit"), hang_seconds=1)
        with pytest.raises(OutcomeUnknownError):
            await adapter.publish(post, "pub-1")
        assert await adapter.recover(post, "pub-1") is None
        await adapter.publish(post, "pub-1")
    assert len(emulator.state()["submissions"]) == 1


async def test_recover_before_any_draft_is_none(adapter, make_article):
    assert await adapter.recover(adapter.render(make_article()), "never-sent") is None


async def test_without_redis_the_adapter_caches_in_memory(make_adapter, make_article, publish_live, emulator):
    adapter = make_adapter(redis=None)
    post = adapter.render(make_article())
    await publish_live(adapter, post, "pub-1")
    await adapter.publish(post, "pub-1")
    assert emulator.state()["token_calls"]["stable_token"] == 1
    assert len(emulator.state()["submissions"]) == 1
