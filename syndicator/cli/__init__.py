"""The `syndicator` command line (entry point `syndicator.cli:app`)."""

from syndicator.cli.main import app

__all__ = ["app"]
