"""The whole stack as real processes for cross-service tests: the three services and the
gateway, each `python -m <service>` on a free port with its own fresh database, on the shared
test Kafka. Services can be stopped and started again to test crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from nyprod_kit.testing import create_postgres_database, drop_postgres_database, kafka_bootstrap

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "logs"
SERVICES = ("units", "prospects", "buyers", "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    db: str = "postgres"
    tmp: Path = field(default_factory=lambda: Path("/tmp"))
    extra_env: dict[str, str] = field(default_factory=dict)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    ports: dict[str, int] = field(default_factory=dict)
    database_urls: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    # a broker of the stack's own, so replays and dead letters see this stack's events only
    own_kafka: bool = True
    kafka: str = ""
    consumer_groups: dict[str, str] = field(default_factory=dict)

    def consumer_group(self, name: str) -> str:
        return self.consumer_groups.get(name, f"{name}-{self.run_id}")

    async def restart_service(self, name: str, *, consumer_group: str | None = None, kill: bool = False) -> None:
        """Stops the service (SIGTERM, or SIGKILL as a crash) and starts it again, optionally in a
        fresh consumer group, which reads every topic again from offset 0."""
        if name in self.procs:
            self.kill_service(name, signal.SIGKILL if kill else signal.SIGTERM)
        if consumer_group:
            self.consumer_groups[name] = consumer_group
        self.start_service(name)
        await self.wait_ready(name)

    def _kafka_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        return {
            **env,
            "NYPROD_RUN_DIR": str(self.tmp / "run"),
            "KAFKA_PORT": str(self.ports["kafka"]),
            "KAFKA_CONTROLLER_PORT": str(self.ports["kafka-controller"]),
        }

    def start_kafka(self) -> None:
        subprocess.run([ROOT / "deploy/local/kafka.sh", "start"], env=self._kafka_env(), check=True)

    def stop_kafka(self) -> None:
        subprocess.run([ROOT / "deploy/local/kafka.sh", "stop"], env=self._kafka_env(), check=True)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    async def start(self) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if self.own_kafka:
            self.ports["kafka"], self.ports["kafka-controller"] = free_port(), free_port()
            await asyncio.to_thread(self.start_kafka)
            self.kafka = f"127.0.0.1:{self.ports['kafka']}"
        else:
            self.kafka = kafka_bootstrap()
        for name in SERVICES:
            self.ports[name] = free_port()
            if self.db == "postgres":
                self.database_urls[name] = await create_postgres_database(f"{name}_{self.run_id}")
            else:
                self.database_urls[name] = f"sqlite+aiosqlite:///{self.tmp}/{name}_{self.run_id}.db"
        for name in SERVICES:
            self.start_service(name)
        await self.wait_ready(*SERVICES)

    def env_for(self, name: str) -> dict[str, str]:
        prefix = name.upper()
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            f"{prefix}_PORT": str(self.ports[name]),
            f"{prefix}_DATABASE_URL": self.database_urls[name],
            f"{prefix}_CONSUMER_GROUP": self.consumer_group(name),
            f"{prefix}_LOG_LEVEL": "warning",
        }
        if name == "gateway":
            env.update(
                GATEWAY_LOCAL_MODE="true",
                GATEWAY_UNITS_URL=self.url("units"),
                GATEWAY_PROSPECTS_URL=self.url("prospects"),
                GATEWAY_BUYERS_URL=self.url("buyers"),
            )
        env.update(self.extra_env)
        return env

    def start_service(self, name: str) -> None:
        log = open(ARTIFACTS / f"{name}-{self.run_id}.log", "ab")  # noqa: SIM115 - the child owns it
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", name], cwd=ROOT, env=self.env_for(name), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill_service(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    async def wait_ready(self, *names: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            for name in names:
                while True:
                    proc = self.procs[name]
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited with {proc.returncode}; see {ARTIFACTS}/{name}-{self.run_id}.log")
                    try:
                        if (await client.get(f"{self.url(name)}/readyz")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} not ready after {timeout}s")
                    await asyncio.sleep(0.2)

    async def stop(self) -> None:
        procs = list(self.procs.values())
        self.procs.clear()
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.own_kafka and self.kafka:
            await asyncio.to_thread(self.stop_kafka)
        if self.db == "postgres":
            for url in self.database_urls.values():
                try:
                    await drop_postgres_database(url)
                except Exception:  # noqa: BLE001 - a leftover test database harms nothing
                    pass
