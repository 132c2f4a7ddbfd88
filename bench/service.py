"""Run `stellwerk serve` as a subprocess on a free loopback port and stop it cleanly."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from bench.common import REPO_ROOT

VENV_BIN = REPO_ROOT / ".venv" / "bin"
READY_TIMEOUT_SECONDS = 900.0
POLL_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class RunningService:
    """A started service: where to reach it and how long it took to become ready."""

    base_url: str
    startup_seconds: float
    log_path: Path


def serve_command() -> list[str]:
    """`stellwerk serve`, or `python -m app serve` where the package is not installed."""
    script = VENV_BIN / "stellwerk"
    if script.exists():
        return [str(script), "serve"]
    return [str(VENV_BIN / "python"), "-m", "app", "serve"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(process: subprocess.Popen[bytes], base_url: str, log_path: Path, key: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    with httpx.Client(timeout=5.0, headers={"Authorization": f"Bearer {key}"}) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"service exited with {process.returncode}; see {log_path}")
            try:
                if client.get(f"{base_url}/api/v1/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
    raise TimeoutError(f"service not ready after {READY_TIMEOUT_SECONDS:.0f} s; see {log_path}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _start(env_overrides: Mapping[str, str], log: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env.update(env_overrides)
    command = [*serve_command(), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return process, f"http://127.0.0.1:{port}"


@contextmanager
def running_service(
    env_overrides: Mapping[str, str], log_path: Path, key: str
) -> Iterator[RunningService]:
    """Start the service with extra STELLWERK_* variables; always stopped on exit.

    `key` is an API key in the service's database (`/ready` answers only with one).
    """
    with running_services([env_overrides], [log_path], key) as (service,):
        yield service


@contextmanager
def running_services(
    env_overrides: Sequence[Mapping[str, str]], log_paths: Sequence[Path], key: str
) -> Iterator[list[RunningService]]:
    """Several services started at once (replicas: one environment each), then each
    waited for; all stopped on exit."""
    started = time.perf_counter()
    with ExitStack() as stack:
        running: list[tuple[subprocess.Popen[bytes], str, Path]] = []
        for overrides, log_path in zip(env_overrides, log_paths, strict=True):
            log = stack.enter_context(log_path.open("wb"))
            process, base_url = _start(overrides, log)
            stack.callback(_stop, process)
            running.append((process, base_url, log_path))
        services = []
        for process, base_url, log_path in running:
            _wait_ready(process, base_url, log_path, key)
            services.append(RunningService(base_url, time.perf_counter() - started, log_path))
        yield services
