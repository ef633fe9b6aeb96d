"""Citizen comment screening for the moderators' cards: flag spam, phishing, abuse and markup, and
mask personal data. Only clear spam is auto-rejected; criticism and complaints always reach a person."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from syndicator.checks import ads, pii, spam
from syndicator.checks.base import BLOCK, WARN, Finding, Severity
from syndicator.checks.wording import WordingDictionary

KIND_GAMBLING = "gambling"
KIND_AD = "ad"
KIND_PHISHING = "phishing"
KIND_ABUSE = "abuse"
KIND_MARKUP = "markup"
KIND_PII = "pii"
KIND_LINK = "link"
KIND_WORDING = "wording"
KIND_CORRECTION = "correction"
AUTO_REJECT_KINDS = frozenset({KIND_GAMBLING, KIND_AD, KIND_PHISHING})

_URL = re.compile(
    r"(?:https?://|www\.)[^\s，。、）)\"'<>]+|\b(?:bit\.ly|t\.cn|dwz\.cn|url\.cn|suo\.im)/\S+", re.I
)
_GOV_URL = re.compile(r"^(?:https?://)?(?:[\w-]+\.)*gov\.cn(?:[/:?#]|$)", re.I)
# "加微信 bet365vip", "VX：abc123", "威信号 xxx": a contact handle pushed at readers.
_CONTACT = re.compile(
    r"(?:加|\+|联系|添加)?\s*(?:微信|威信|薇信|v信|vx|wx|weixin|qq|扣扣)号?\s*[:：]?\s*[A-Za-z0-9_-]{5,}",
    re.I,
)
_QR_LURE = re.compile(
    r"(?:扫码|扫描二维码|扫二维码|识别二维码).{0,8}(?:领取|领|红包|补贴|中奖|返现|进群|加群|赚)"
)
_CLICK_LURE = re.compile(
    r"(?:点击|戳)(?:链接)?.{0,4}(?:领取|申领|查看|认证)|(?:补贴|红包|中奖|退税|退款).{0,6}(?:领取|申领)"
)
# Selling in the comment section: counterfeit documents, invoices, loans, side jobs.
_AD_TERMS = re.compile(
    r"代办.{0,4}(?:证|执照|资质)|办证|代开.{0,2}发票|发票代开|刻章|快速出证|低价代|兼职刷单|刷单|日赚|日结|"
    r"无抵押贷款|秒批|代孕|私家侦探|加盟|招代理"
)
# A small list on purpose: it flags for a moderator, it never decides.
_ABUSE = re.compile(
    r"(?<![体险疗活业筑弃])废物(?![处利回管综排填焚收贮资转产])|滚蛋|滚出|滚(?=[!！。\s]|$)|去死|人渣|"
    r"王八蛋|混蛋|白痴|脑残|蠢货|狗官|傻[逼比屄]|\bsb\b|草泥马|他妈的|操你|垃圾政府|狗东西",
    re.I,
)
_MARKUP = re.compile(r"<\s*/?\s*[a-z][^>]*>|javascript\s*:|on[a-z]+\s*=", re.I)
# 网民纠错: a citizen pointing out an error in the article (江苏: forwarded in 1 working day, resolved in 2).
_CORRECTION = re.compile(
    r"纠错|勘误|错别字|写错|笔误|有误|不准确|与原文不一致|应为|更正|"
    r"(?:链接|附件|网页|页面)(?:打不开|无法打开|失效|错误)"
)


@dataclass(frozen=True)
class CommentScreening:
    findings: list[Finding]
    masked_text: str  # for moderator cards: personal data masked; markup left as typed (escape on render)
    auto_reject: bool
    kinds: set[str] = field(default_factory=set)


def screen_comment(text: str, *, wording: WordingDictionary | None = None) -> CommentScreening:
    tagged: list[tuple[str, Finding]] = [
        *_spam(text),
        *_phishing(text),
        *_tag(KIND_ABUSE, _ABUSE, text, BLOCK, "abusive language"),
        *_tag(KIND_MARKUP, _MARKUP, text, BLOCK, "markup or script in a comment"),
    ]
    if wording is not None:
        tagged += [(KIND_WORDING, f) for f in wording.find(text)]
    tagged += _tag(KIND_CORRECTION, _CORRECTION, text, WARN, "netizen correction (网民纠错)")[:1]
    found = pii.find_pii(text)
    tagged += [(KIND_PII, _pii_finding(match)) for match in found]
    kinds = {kind for kind, _ in tagged}
    # Finding lines quote what they matched: personal data is masked there too.
    findings = sorted((_masked(f) for _, f in tagged), key=lambda f: f.position)
    return CommentScreening(findings, pii.mask(text, found), bool(kinds & AUTO_REJECT_KINDS), kinds)


def mask_personal_data(text: str) -> tuple[str, list[Finding]]:
    """The text with personal data masked, and one finding per item masked."""
    found = pii.find_pii(text)
    return pii.mask(text, found), [_pii_finding(match) for match in found]


def _pii_finding(match: pii.PiiMatch) -> Finding:
    message = f"{match.kind.replace('_', ' ')} masked" + (
        "" if match.valid else " (checksum fails: mistyped or fake)"
    )
    return Finding(f"comment.pii_{match.kind}", WARN, message, pii.mask_value(match), match.start)


def _masked(finding: Finding) -> Finding:
    if not pii.may_hold_pii(finding.matched):
        return finding
    masked = pii.mask(finding.matched)
    return finding if masked == finding.matched else replace(finding, matched=masked)


def _spam(text: str) -> list[tuple[str, Finding]]:
    found = [(KIND_GAMBLING, f) for f in spam.gambling_findings(text, "body")]
    found += [
        (KIND_GAMBLING, Finding("comment.gambling", BLOCK, "betting brand", m.group().strip(), m.start()))
        for m in spam.latin_brands(text)
    ]
    found += [(KIND_AD, f) for f in ads.find_ads(text)]
    found += _tag(KIND_AD, _AD_TERMS, text, BLOCK, "advertising")
    return found


def _phishing(text: str) -> list[tuple[str, Finding]]:
    found: list[tuple[str, Finding]] = []
    for match in _URL.finditer(text):
        gov = bool(_GOV_URL.match(match.group()))
        kind, severity = (KIND_LINK, WARN) if gov else (KIND_PHISHING, BLOCK)
        message = "link to a government site" if gov else "link in a comment (phishing risk)"
        found.append((kind, Finding(f"comment.{kind}", severity, message, match.group(), match.start())))
    found += _tag(KIND_PHISHING, _CONTACT, text, BLOCK, "contact handle lure (WeChat / QQ)")
    found += _tag(KIND_PHISHING, _QR_LURE, text, BLOCK, "QR code lure")
    found += _tag(KIND_PHISHING, _CLICK_LURE, text, BLOCK, "click-to-claim lure")
    return found


def _tag(
    kind: str, pattern: re.Pattern[str], text: str, severity: Severity, message: str
) -> list[tuple[str, Finding]]:
    return [
        (kind, Finding(f"comment.{kind}", severity, message, m.group().strip(), m.start()))
        for m in pattern.finditer(text)
    ]
