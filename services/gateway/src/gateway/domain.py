"""Pure rules of the gateway: who may do what, which service owns a path, what the live stream
tells about an event, and whether the configuration is fit to start. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contracts.booking import BookingCancelled, BookingConfirmed, BookingRejected, BookingRequested
from contracts.buyers import UnitBuyersChanged
from contracts.envelope import Event
from contracts.types import BookingStatus
from contracts.units import UnitChanged

API_PREFIX = "/api/v1"
SERVICES = ("units", "prospects", "buyers")
READ_METHODS = frozenset({"GET", "HEAD"})


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"


# ---- access ---------------------------------------------------------------------------------


def may(role: Role, method: str, *, admin_only: bool = False) -> bool:
    """admin: everything; agent: everything but user management; viewer: reading only."""
    if role is Role.ADMIN:
        return True
    if admin_only:
        return False
    if role is Role.AGENT:
        return True
    return method.upper() in READ_METHODS


# ---- routing --------------------------------------------------------------------------------

# first path segment after /api/v1 → the service that owns it
_OWNERS = {
    "projects": "units",
    "units": "units",
    "prospects": "prospects",
    "bookings": "prospects",
    "buyers": "buyers",
    "buyer-links": "buyers",
}


def owning_service(method: str, path: str) -> str | None:
    """The service that answers ``method path`` (a full path such as ``/api/v1/units/…``), or
    None when the path is not part of the API."""
    if not path.startswith(API_PREFIX + "/"):
        return None
    segments = [s for s in path[len(API_PREFIX) + 1 :].split("/")]
    if segments and segments[-1] == "":
        segments.pop()
    if not segments:
        return None
    owner = _OWNERS.get(segments[0])
    # adding a buyer starts a booking, and bookings belong to the prospects service
    if owner == "buyers" and segments == ["buyers"] and method.upper() == "POST":
        return "prospects"
    return owner


# ---- live stream ----------------------------------------------------------------------------

_BOOKING_STATUS: dict[type[Event], BookingStatus] = {
    BookingRequested: BookingStatus.PENDING,
    BookingConfirmed: BookingStatus.CONFIRMED,
    BookingRejected: BookingStatus.REJECTED,
    BookingCancelled: BookingStatus.CANCELLED,
}


@dataclass(frozen=True)
class StreamMessage:
    """One Server-Sent Event: its name, its JSON data and the event id it came from."""

    event: str
    data: dict[str, Any]
    id: str


def stream_message(event: Event) -> StreamMessage | None:
    """What the live stream says about an event, or None for events clients do not need."""
    eid = str(event.event_id)
    if isinstance(event, UnitChanged):
        if event.previous_status is not None and event.previous_status != event.status:
            return StreamMessage(
                "unit.status",
                {
                    "unit_id": str(event.unit_id),
                    "status": event.status.value,
                    "previous_status": event.previous_status.value,
                    "unit_name": event.name,
                },
                eid,
            )
        return StreamMessage("unit.changed", {"unit_id": str(event.unit_id)}, eid)
    status = _BOOKING_STATUS.get(type(event))
    if status is not None:
        return StreamMessage(
            "booking.status",
            {
                "booking_id": str(event.booking_id),  # type: ignore[attr-defined]
                "unit_id": str(event.unit_id),  # type: ignore[attr-defined]
                "status": status.value,
                "reason": getattr(event, "reason", None) if status is not BookingStatus.PENDING else None,
            },
            eid,
        )
    if isinstance(event, UnitBuyersChanged):
        return StreamMessage("buyers.changed", {"unit_id": str(event.unit_id)}, eid)
    return None


# ---- start-up -------------------------------------------------------------------------------

USERNAME_PATTERN = r"^[A-Za-z0-9._@+-]{1,100}$"
MIN_SECRET_LENGTH = 32
MIN_PASSWORD_LENGTH = 8
LOCAL_USERS = (("admin", "admin", Role.ADMIN), ("agent", "agent", Role.AGENT), ("viewer", "viewer", Role.VIEWER))


def secret_problem(*, local_mode: bool, secret_key: str | None, local_secret: str) -> str | None:
    """Why the token signing key must not be used, or None. Local mode accepts the built-in key."""
    if local_mode:
        return None
    if not secret_key or secret_key == local_secret:
        return "GATEWAY_SECRET_KEY is not set: outside local mode set it to a random string of at least 32 characters"
    if len(secret_key) < MIN_SECRET_LENGTH:
        return f"GATEWAY_SECRET_KEY is too short ({len(secret_key)} characters): use at least {MIN_SECRET_LENGTH}"
    return None


@dataclass(frozen=True)
class UserSeed:
    username: str
    password: str
    role: Role


def decide_initial_users(
    *,
    local_mode: bool,
    existing: set[str],
    admin_exists: bool,
    admin_username: str,
    admin_password: str | None,
) -> tuple[list[UserSeed], str | None]:
    """The users to create at start-up, and a problem that must stop start-up (or None).

    Local mode creates the demo users that are missing. Otherwise an admin is created only when
    none exists, and only with a password given for it that is not the well-known one.
    """
    if local_mode:
        return [UserSeed(u, p, r) for u, p, r in LOCAL_USERS if u not in existing], None
    if admin_exists:
        return [], None
    if not admin_password:
        return [], "no admin user exists: set GATEWAY_ADMIN_PASSWORD to create the first one"
    if admin_password.strip().lower() == "admin" or len(admin_password) < MIN_PASSWORD_LENGTH:
        return [], f"GATEWAY_ADMIN_PASSWORD is refused: use at least {MIN_PASSWORD_LENGTH} characters, not 'admin'"
    if admin_username in existing:
        return [], f"user {admin_username!r} exists but is no admin: choose another GATEWAY_ADMIN_USERNAME"
    return [UserSeed(admin_username, admin_password, Role.ADMIN)], None
