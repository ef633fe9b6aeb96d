"""The adapter and the emulator count a status's length apart (channels/weibo/text.py and the
emulator's own counter): they must agree, or a counting bug would hide in tests."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.weibo.emulator import status_length
from channels.weibo.text import weibo_length

LONG_PATH = "/" + "a" * 200
CASES = {
    "": 0,
    "a": 1,
    "ab": 1,
    "abc": 2,
    "é": 1,  # Latin-1: half a character
    "汉": 1,
    "汉字a": 3,
    "一二三四五": 5,
    "🀂": 2,  # beyond the BMP
    "one two 🀂一二三四五🀀": 13,  # schappo.blogspot.com, 2012: Weibo's own count
    "https://www.gov.cn/a.html": 10,  # any link: a 20-character t.cn placeholder
    "http://x.gov.cn": 10,
    "见https://www.gov.cn/zhengce/2026-11/30/content_1.htm?id=7#top。": 12,
    "https://a.gov.cn/1 https://b.gov.cn/2": 21,
    f"https://www.gov.cn{LONG_PATH}": 10 + (len(f"https://www.gov.cn{LONG_PATH}") - 140 + 1) // 2,
    "关于做好2026年冬季供暖工作的通知（苏政办发〔2026〕96号）": 28,
    "x" * 280: 140,
    "汉" * 141: 141,
}


@pytest.mark.parametrize(("text", "length"), CASES.items())
def test_both_counters_give_weibos_length(text: str, length: int) -> None:
    assert (weibo_length(text), status_length(text)) == (length, length)


URL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%"
link = st.builds(
    "{}://{}.gov.cn{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    st.one_of(st.just(""), st.text(URL_CHARS, max_size=180).map(lambda path: "/" + path)),
)
# Pieces a status is made of; a space or a CJK character always ends a link.
word = st.one_of(
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=20),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=":/"), max_size=20),
    st.text(st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), min_size=1, max_size=3),
    st.text("，。！？（）《》【】、“”", min_size=1, max_size=3),
    link,
)


@given(st.lists(word, max_size=12).map(" ".join))
def test_counters_agree_on_any_status(text: str) -> None:
    assert weibo_length(text) == status_length(text)
