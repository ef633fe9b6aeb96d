"""Every setting is documented: each Settings field appears in the README as its variable."""

from pathlib import Path

from syndicator.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [
        f"SYNDICATOR_{name.upper()}"
        for name in Settings.model_fields
        if f"SYNDICATOR_{name.upper()}" not in text
    ]
    assert not missing, f"document these in README.md's settings table: {missing}"
