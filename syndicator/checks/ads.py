"""Commercial advertising: government channels may carry none (怀化: 不得刊登商业广告).

Amounts of money alone are ordinary in policy text (预算 500 万元, 补贴 200 元), so only the shapes
of selling count: a price tag, a promo code, a call to buy.
"""

from __future__ import annotations

import re

from syndicator.checks.base import BLOCK, CheckInput, FieldName, Finding

RULE_PRICE = "ads.price"
RULE_PROMO_CODE = "ads.promo_code"
RULE_CALL_TO_BUY = "ads.call_to_buy"

# "¥99", "￥1,299.00", "原价199元", "现价 99 元", "仅需9.9元", "到手价59元".
PRICE = re.compile(
    r"[¥￥]\s*\d[\d,]*(?:\.\d+)?"
    r"|(?:原价|现价|特价|售价|零售价|优惠价|活动价|到手价|秒杀价|团购价|仅需|只需|低至)\s*[:：]?\s*\d[\d,]*(?:\.\d+)?\s*元?"
)
PROMO_CODE = re.compile(r"(?:优惠码|折扣码|兑换码|邀请码|推荐码|促销码|券码)\s*[:：]?\s*[A-Za-z0-9]{4,}")
CALL_TO_BUY = re.compile(
    r"扫码(?:购买|下单|抢购|领券|领取优惠|立减)|扫描二维码(?:购买|下单|抢购)|(?:立即|马上|点击|戳链接)(?:购买|下单|抢购)"
    r"|限时(?:特价|优惠|抢购|折扣)|全场\d+(?:\.\d+)?折|买一送一|包邮|领券|下单立减|优惠券"
)
_RULES = (
    (PRICE, RULE_PRICE, "price tag (commercial advertising)"),
    (PROMO_CODE, RULE_PROMO_CODE, "promo code (commercial advertising)"),
    (CALL_TO_BUY, RULE_CALL_TO_BUY, "call to buy (commercial advertising)"),
)


def check(inp: CheckInput) -> list[Finding]:
    findings: list[Finding] = []
    for field, text in inp.texts():
        findings += find_ads(text, field)
    return findings


def find_ads(text: str, field: FieldName = "body") -> list[Finding]:
    findings = [
        Finding(rule, BLOCK, message, match.group().strip(), match.start(), field)
        for pattern, rule, message in _RULES
        for match in pattern.finditer(text)
    ]
    return sorted(findings, key=lambda f: f.position)
