"""Issue 12 finding 3: what an article body points at is fetched only from public portal hosts,
capped, judged by its bytes, never from a local file."""

from __future__ import annotations

import pytest

from channels.base import PermanentError


async def test_an_image_on_a_loopback_address_is_refused_by_default(make_adapter, make_article, portal):
    adapter = make_adapter(fetch_allow_loopback=False)
    body = f'<p>正文</p><p><img src="{portal.url}/internal-admin/secret.png"></p>'
    post = adapter.render(make_article(body_html=body))
    with pytest.raises(PermanentError, match="loopback") as refused:
        await adapter.publish(post, "pub-ssrf")
    assert refused.value.code == "fetch_refused"
    assert "internal" not in portal.hits  # never connected


async def test_an_image_host_outside_the_portal_domain_is_refused(make_adapter, make_article):
    adapter = make_adapter()
    post = adapter.render(make_article(body_html='<p><img src="http://127.0.0.2/a.png"></p>'))
    with pytest.raises(PermanentError, match="allowed hosts"):
        await adapter.publish(post, "pub-host")


async def test_a_huge_html_answer_is_cut_off_and_not_uploaded(make_adapter, make_article, portal, emulator):
    adapter = make_adapter()
    post = adapter.render(make_article(body_html='<p><img src="/huge/figure.png"></p>'))
    with pytest.raises(PermanentError, match="exceeds") as refused:
        await adapter.publish(post, "pub-huge")
    assert refused.value.code == "fetch_refused"
    assert portal.hits["figure.png"] == 1


@pytest.mark.parametrize(
    "src", ["HTTP:/etc/hostname", "http:/etc/hostname", "file:///etc/hostname", "/etc/hostname"]
)
async def test_local_file_spellings_are_never_read(make_adapter, make_article, src):
    adapter = make_adapter(fetch_allow_loopback=False)
    post = adapter.render(make_article(body_html=f'<p><img src="{src}"></p>'))
    assert all(image.startswith("http://127.0.0.1:") for image in post.images)  # dropped or on the portal
    if post.images:  # the portal is on loopback: refused by default before any connection
        with pytest.raises(PermanentError, match="loopback"):
            await adapter.publish(post, "pub-file")
