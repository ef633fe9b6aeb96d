"""CSV/XLSX formula injection (issue 12 finding 10): exported text never becomes a live formula."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest
from openpyxl import load_workbook

from syndicator.db import Database
from syndicator.tabular import neutralise
from tests.obligations.conftest import EVENING, Org, item_in, open_item
from tests.obligations.test_obligation_api import bearer, compliance_api  # noqa: F401  (fixture)

HOSTILE = [
    '=HYPERLINK("https://evil.example/","点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_every_formula_start_is_neutralised(text: str) -> None:
    assert neutralise(text) == "'" + text


def test_plain_text_and_numbers_are_untouched() -> None:
    assert neutralise("国务院办公厅关于…的意见") == "国务院办公厅关于…的意见"
    assert neutralise(-3) == -3 and neutralise(None) is None


async def test_a_hostile_title_stays_text_in_csv_and_xlsx(
    compliance_api: httpx.AsyncClient,  # noqa: F811
    db: Database,
    org: Org,
) -> None:
    await open_item(db, item_in(title=HOSTILE[0], doc_number=None))
    params = {"as_of": (EVENING + timedelta(hours=13)).isoformat()}
    answer = await compliance_api.get("/api/v1/compliance.csv", params=params, headers=bearer(org, "officer"))
    titles = {row["上级信息"] for row in csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")))}
    assert titles == {"'" + HOSTILE[0]}
    book = await compliance_api.get("/api/v1/compliance.xlsx", params=params, headers=bearer(org, "officer"))
    sheet = load_workbook(io.BytesIO(book.content))["转载明细"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("'=") for c in cells)
