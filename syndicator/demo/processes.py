"""Subprocesses of a stack (`syndicator worker`, emulators, the API), each logging to its own file,
and a pool of workers that can be killed and restarted like under a supervisor."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SYNDICATOR = Path(sys.executable).parent / "syndicator"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log_text()[-2000:]}")


@dataclass
class Processes:
    """Every subprocess a stack starts, each logging to its own file; `stop_all` ends exactly these."""

    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="syndicator-stack-")))
    running: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: Sequence[str], env: dict[str, str]) -> Proc:
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env=env,
                cwd=self.log_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.running.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 10.0) -> None:
        stop_process(proc.popen, grace)
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.running)):
            self.stop(proc)


@dataclass
class WorkerPool:
    """`syndicator worker` subprocesses: started, killed, restarted like a supervisor would."""

    owner: Processes  # starts them, and stops them all at the end
    env: dict[str, str]
    argv: tuple[str, ...] = (str(SYNDICATOR), "worker")
    processes: list[Proc] = field(default_factory=list)
    kills: int = 0
    restarts: int = 0
    _spawned: int = 0

    def start(self, count: int) -> None:
        for _ in range(count):
            self.processes.append(self._spawn())

    def _spawn(self) -> Proc:
        self._spawned += 1
        return self.owner.start(f"worker-{self._spawned}", list(self.argv), self.env)

    def ready(self, index: int) -> bool:
        """arq logs "Starting worker" once it is connected and polling."""
        return "Starting worker" in self.processes[index].log_text()

    def wait_ready(self, timeout: float = 60) -> None:
        def all_ready() -> bool:
            for worker in self.processes:
                worker.check_alive()
            return all(self.ready(index) for index in range(len(self.processes)))

        wait_until(all_ready, timeout=timeout, what="workers to start")

    def kill(self, index: int) -> None:
        process = self.processes[index].popen
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills += 1

    def restart(self, index: int) -> None:
        self.owner.stop(self.processes[index])
        self.processes[index] = self._spawn()
        self.restarts += 1

    def revive_exited(self) -> int:
        """Like a process supervisor: start again any worker that exited on its own."""
        exited = [index for index, worker in enumerate(self.processes) if worker.popen.poll() is not None]
        for index in exited:
            self.restart(index)
        return len(exited)

    def stop(self) -> None:
        for worker in self.processes:
            self.owner.stop(worker)

    def tail(self, lines: int = 15) -> str:
        logs = sorted(self.owner.log_dir.glob("worker-*.log"))
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in logs
        )
