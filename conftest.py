"""Starts the real infrastructure once per test session, for every test directory.

Order of preference: URLs from the environment (``KAFKA_BOOTSTRAP_SERVERS``,
``NYPROD_TEST_POSTGRES_URL``); testcontainers when a Docker engine answers; the project's own
local launchers (Kafka from Maven jars, Debian's PostgreSQL) otherwise.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent


def _docker_engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session", autouse=True)
def infrastructure():
    started = []
    need_kafka = "KAFKA_BOOTSTRAP_SERVERS" not in os.environ
    need_pg = "NYPROD_TEST_POSTGRES_URL" not in os.environ
    if (need_kafka or need_pg) and os.environ.get("NYPROD_USE_TESTCONTAINERS", "auto") != "no" and _docker_engine_answers():
        if need_kafka:
            from testcontainers.kafka import KafkaContainer

            kafka = KafkaContainer().with_kraft()
            kafka.start()
            started.append(kafka)
            os.environ["KAFKA_BOOTSTRAP_SERVERS"] = kafka.get_bootstrap_server()
        if need_pg:
            from testcontainers.postgres import PostgresContainer

            pg = PostgresContainer("postgres:16", driver="asyncpg")
            pg.start()
            started.append(pg)
            os.environ["NYPROD_TEST_POSTGRES_URL"] = pg.get_connection_url().rsplit("/", 1)[0]
    else:
        if need_kafka:
            subprocess.run([ROOT / "deploy/local/kafka.sh", "start"], check=True)
        if need_pg:
            subprocess.run([ROOT / "deploy/local/postgres.sh", "start"], check=True)
    yield
    for container in started:
        container.stop()
