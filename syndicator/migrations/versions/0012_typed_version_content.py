"""typed article version content

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

A version's content was the webhook's JSON (`payload`) plus a `sanitized_html` key, re-validated
with the webhook schema on every send. It becomes typed columns, copied here from each stored
payload; `payload` stays as the document as the portal sent it (evidence), without that key.
The copy runs in Python so the same code parses the stored JSON on SQLite and PostgreSQL.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import syndicator.models.common

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = syndicator.models.common.UTCDateTime(timezone=True)
SANITIZED_KEY = "sanitized_html"  # where 0011 and before kept the sanitised body
BATCH = 500
REQUIRED = ("external_id", "title", "url", "published_at", "body_html", "attachments")

_version = sa.table(
    "article_version",
    sa.column("id", sa.Integer()),
    sa.column("article_id", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("received_at", UTC_DATETIME),
    sa.column("external_id", sa.String()),
    sa.column("title", sa.String()),
    sa.column("url", sa.String()),
    sa.column("published_at", UTC_DATETIME),
    sa.column("doc_number", sa.String()),
    sa.column("category", sa.String()),
    sa.column("body_html", sa.Text()),
    sa.column("sanitized_html", sa.Text()),
    sa.column("attachments", sa.JSON()),
)
_article = sa.table(
    "article",
    sa.column("id", sa.Integer()),
    sa.column("external_id", sa.String()),
    sa.column("title", sa.String()),
    sa.column("url", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("article_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("url", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("published_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("doc_number", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("body_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sanitized_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    _copy_out_of_payload(op.get_bind())
    with op.batch_alter_table("article_version", schema=None) as batch_op:
        for name in REQUIRED:
            batch_op.alter_column(name, nullable=False)


def _copy_out_of_payload(bind: sa.Connection) -> None:
    """In batches by id: each payload carries a whole article body."""
    last_id = 0
    while rows := bind.execute(
        sa.select(
            _version.c.id,
            _version.c.payload,
            _version.c.received_at,
            _article.c.external_id,
            _article.c.title,
            _article.c.url,
        )
        .join(_article, _article.c.id == _version.c.article_id)
        .where(_version.c.id > last_id)
        .order_by(_version.c.id)
        .limit(BATCH)
    ).all():
        values = [_typed(row.id, dict(row.payload or {}), row) for row in rows]
        bind.execute(_version.update().where(_version.c.id == sa.bindparam("version_id")), values)
        last_id = rows[-1].id


def _typed(version_id: int, payload: dict[str, Any], row: Any) -> dict[str, Any]:
    """The typed columns of one stored version. A payload always held the webhook's required
    fields; the article's own values (and the arrival time) only cover a row that did not."""
    sanitized = payload.pop(SANITIZED_KEY, None)
    return {
        "version_id": version_id,
        "external_id": str(payload.get("external_id") or row.external_id),
        "title": str(payload.get("title") or row.title),
        "url": str(payload.get("url") or row.url),
        "published_at": _aware(payload.get("published_at")) or row.received_at,
        "doc_number": payload.get("doc_number"),
        "category": payload.get("category"),
        "body_html": str(payload.get("body_html") or ""),
        "sanitized_html": sanitized,
        "attachments": [
            {"name": str(a["name"]), "url": a.get("url")}
            for a in payload.get("attachments") or []
            if isinstance(a, dict) and a.get("name")
        ],
        "payload": payload,
    }


def _aware(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_version.c.id, _version.c.payload, _version.c.sanitized_html)).all()
    restored = [
        {"version_id": r.id, "payload": {**(r.payload or {}), SANITIZED_KEY: r.sanitized_html}}
        for r in rows
        if r.sanitized_html is not None
    ]
    if restored:
        bind.execute(_version.update().where(_version.c.id == sa.bindparam("version_id")), restored)
    with op.batch_alter_table("article_version", schema=None) as batch_op:
        for name in (
            "attachments",
            "sanitized_html",
            "body_html",
            "category",
            "doc_number",
            "published_at",
            "url",
            "title",
            "external_id",
        ):
            batch_op.drop_column(name)
