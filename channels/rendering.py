"""Jinja2 environment for the per-channel templates in the top-level `templates/` folder."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(
    os.environ.get("SYNDICATOR_TEMPLATES_DIR", Path(__file__).resolve().parents[1] / "templates")
)


@lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "html.j2", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_template(name: str, **context: object) -> str:
    return template_env().get_template(name).render(**context)
