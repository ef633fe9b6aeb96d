"""Summarise py-spy raw (collapsed) stacks: `python -m benchmarks.profile_summary FILE [--top N]`.

Prints where the samples are, by package of the innermost frame (self time) and by function
counted once per stack (inclusive time), so a worker's CPU can be attributed to DB, HTTP, logging…
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::\d+)?\)$")
_PACKAGES = (
    "sqlalchemy", "asyncpg", "sqlmodel", "httpx", "httpcore", "httpx_aiohttp", "aiohttp", "structlog",
    "logging", "arq", "redis", "pydantic", "jinja2", "nh3", "uvicorn", "starlette", "fastapi",
    "channels", "syndicator", "asyncio", "json",
)  # fmt: skip


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def package_of(frame: str) -> str:
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    for package in _PACKAGES:
        if f"/{package}/" in path or path.endswith(f"/{package}.py") or path.startswith(f"{package}/"):
            return package
    return "other:" + Path(path).name


def summarise(path: Path, top: int) -> None:
    stacks = parse(path)
    total = sum(n for _, n in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in stacks:
        own[package_of(frames[-1])] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{path.name}: {total} samples")
    print("  self time by package:")
    for name, count in own.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {name}")
    print("  inclusive time by function:")
    for name, count in inclusive.most_common(top):
        print(f"    {100 * count / total:5.1f}%  {name[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.files:
        summarise(path, args.top)


if __name__ == "__main__":
    main()
