"""(type, version) → event class, and decoding bytes from the wire into a validated event."""

from __future__ import annotations

import json

from pydantic import ValidationError

from . import booking, buyers, units
from .envelope import Envelope, Event

_EVENTS: tuple[type[Event], ...] = (
    booking.BookingRequested,
    booking.BookingConfirmed,
    booking.BookingRejected,
    booking.BookingCancelled,
    booking.CoBuyerAdded,
    booking.CoBuyerRemoved,
    booking.ProspectChanged,
    booking.ProspectErased,
    units.UnitChanged,
    units.UnitReserved,
    units.UnitReservationRejected,
    units.UnitReleased,
    buyers.BuyerCreated,
    buyers.BuyerCreationFailed,
    buyers.UnitBuyersChanged,
)

REGISTRY: dict[tuple[str, int], type[Event]] = {(e.TYPE, e.VERSION): e for e in _EVENTS}


class UndecodableEvent(ValueError):
    """The bytes are not a valid event of a known type and version: a poison message."""


def decode(raw: bytes | str) -> Event:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UndecodableEvent(f"not JSON: {exc}") from None
    try:
        env = Envelope.model_validate(data)
    except ValidationError as exc:
        raise UndecodableEvent(f"bad envelope: {_errors(exc)}") from None
    cls = REGISTRY.get((env.type, env.version))
    if cls is None:
        raise UndecodableEvent(f"unknown event type {env.type!r} version {env.version}")
    try:
        return cls.model_validate(
            {
                **env.payload,
                "event_id": env.event_id,
                "occurred_at": env.occurred_at,
                "correlation_id": env.correlation_id,
            }
        )
    except ValidationError as exc:
        raise UndecodableEvent(f"bad {env.type} v{env.version} payload: {_errors(exc)}") from None


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors())
