"""Run a burst worker with production logging; the leak test reads everything it prints.

A subprocess, so the structlog configuration (and its logger cache) is exactly production's.
"""

from __future__ import annotations

import asyncio

from syndicator.config import Settings
from syndicator.log import configure_logging
from tests.support import run_worker

if __name__ == "__main__":
    configure_logging("DEBUG")
    asyncio.run(run_worker(Settings()))
