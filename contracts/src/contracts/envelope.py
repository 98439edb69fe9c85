"""The wire envelope shared by every event.

On the wire an event is JSON:
``{"event_id", "type", "version", "occurred_at", "correlation_id", "key", "payload": {...}}``.
In code an event is one frozen pydantic class per (type, version) whose fields are the payload;
the envelope fields live on the base class.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

ENVELOPE_FIELDS = frozenset({"event_id", "occurred_at", "correlation_id"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    # name of the payload field whose value is the Kafka key (unit_id for booking events)
    KEY_FIELD: ClassVar[str] = "unit_id"

    event_id: UUID = Field(default_factory=uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)
    # the booking id for saga events, so a whole booking can be traced across services
    correlation_id: UUID | None = None

    @property
    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))

    def to_wire(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "type": self.TYPE,
            "version": self.VERSION,
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": str(self.correlation_id) if self.correlation_id else None,
            "key": self.key,
            "payload": self.payload(),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.to_wire(), separators=(",", ":")).encode()


class Envelope(BaseModel):
    """The envelope alone, validated before the payload is looked at."""

    model_config = ConfigDict(extra="forbid")

    event_id: UUID
    type: str = Field(min_length=1, max_length=100)
    version: int = Field(ge=1)
    occurred_at: datetime
    correlation_id: UUID | None = None
    key: str | None = None
    payload: dict[str, Any]
