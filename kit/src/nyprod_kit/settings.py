from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service has. Subclasses set ``env_prefix`` (``UNITS_`` …) and defaults;
    ``KAFKA_BOOTSTRAP_SERVERS`` is read without prefix because all services share the broker."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: str = "service"
    database_url: str = "sqlite+aiosqlite:///./service.db"
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # the relay publishes right after commit; this timer only sweeps what was left behind
    outbox_sweep_seconds: float = 1.0
    # handler attempts before a message goes to the dead-letter topic
    consumer_max_attempts: int = 5
    # events handled in one transaction, at most (what one fetch returned); 1: one each
    consumer_batch_size: int = Field(default=100, ge=1, le=1000)
    # consumers per process sharing the partitions (each one batch at a time, in order); one
    # is the fastest on 2 cores: fewer, fuller batches and fewer fetches for the broker
    consumer_workers: int = Field(default=1, ge=1, le=6)
    startup_timeout_seconds: float = 15.0
    log_level: str = "info"
    # Kafka consumer group; defaults to the service name. Tests running several instances of one
    # service against one broker give each its own group.
    consumer_group: str = ""

    @model_validator(mode="after")
    def _group_defaults_to_the_service(self) -> ServiceSettings:
        self.consumer_group = self.consumer_group or self.service_name
        return self

    def consumer_options(self) -> dict[str, Any]:
        """The ``nyprod_kit.consumer.subscribe`` options these settings choose."""
        return {
            "group_id": self.consumer_group,
            "max_attempts": self.consumer_max_attempts,
            "batch_size": self.consumer_batch_size,
            "workers": self.consumer_workers,
        }
