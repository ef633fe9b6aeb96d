"""Pre-publish content checks: pure rules over plain values (stdlib, nh3 and pyahocorasick only).

`run_checks` runs every rule on one article version; `screen_comment` screens a citizen comment.
"""

from syndicator.checks.base import CheckInput, Finding
from syndicator.checks.comments import CommentScreening, screen_comment
from syndicator.checks.runner import CheckReport, run_checks
from syndicator.checks.wording import WordingDictionary, load_wording

__all__ = [
    "CheckInput",
    "CheckReport",
    "CommentScreening",
    "Finding",
    "WordingDictionary",
    "load_wording",
    "run_checks",
    "screen_comment",
]
