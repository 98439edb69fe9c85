"""The gateway's pure rules, table-driven."""

from __future__ import annotations

import uuid

import pytest
from contracts.booking import BookingCancelled, BookingConfirmed, BookingRejected, BookingRequested
from contracts.buyers import UnitBuyersChanged
from contracts.types import ProspectSnapshot, UnitStatus
from contracts.units import UnitChanged, UnitReserved

from gateway.domain import Role, decide_initial_users, may, owning_service, secret_problem, stream_message

U, B, P = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("POST", "/api/v1/projects", "units"),
        ("GET", "/api/v1/projects/abc", "units"),
        ("GET", "/api/v1/units", "units"),
        ("GET", "/api/v1/units/", "units"),
        ("POST", "/api/v1/units/abc/cancel-booking", "units"),
        ("GET", "/api/v1/prospects", "prospects"),
        ("PUT", "/api/v1/prospects/abc/interests", "prospects"),
        ("POST", "/api/v1/bookings", "prospects"),
        ("GET", "/api/v1/bookings/abc", "prospects"),
        ("POST", "/api/v1/buyers", "prospects"),
        ("POST", "/api/v1/buyers/", "prospects"),
        ("GET", "/api/v1/buyers", "buyers"),
        ("GET", "/api/v1/buyers/abc", "buyers"),
        ("GET", "/api/v1/buyer-links", "buyers"),
        ("GET", "/api/v1/", None),
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/projectsX", None),
        ("GET", "/api/v2/units", None),
        ("GET", "/units", None),
    ],
)
def test_owning_service_is_found_when_path_is_in_the_api(method, path, service):
    assert owning_service(method, path) == service


@pytest.mark.parametrize(
    ("role", "method", "admin_only", "allowed"),
    [
        (Role.ADMIN, "DELETE", True, True),
        (Role.ADMIN, "POST", False, True),
        (Role.AGENT, "POST", False, True),
        (Role.AGENT, "DELETE", False, True),
        (Role.AGENT, "GET", True, False),
        (Role.VIEWER, "GET", False, True),
        (Role.VIEWER, "head", False, True),
        (Role.VIEWER, "POST", False, False),
        (Role.VIEWER, "PATCH", False, False),
        (Role.VIEWER, "GET", True, False),
    ],
)
def test_access_follows_role_when_asked(role, method, admin_only, allowed):
    assert may(role, method, admin_only=admin_only) is allowed


def unit_changed(status: UnitStatus, previous: UnitStatus | None) -> UnitChanged:
    return UnitChanged(unit_id=U, revision=2, project_id=P, name="A-1", status=status, previous_status=previous)


@pytest.mark.parametrize(
    ("event", "name", "data"),
    [
        (
            unit_changed(UnitStatus.BOOKED, UnitStatus.AVAILABLE),
            "unit.status",
            {"unit_id": str(U), "status": "booked", "previous_status": "available", "unit_name": "A-1"},
        ),
        (unit_changed(UnitStatus.AVAILABLE, None), "unit.changed", {"unit_id": str(U)}),
        (unit_changed(UnitStatus.SOLD, UnitStatus.SOLD), "unit.changed", {"unit_id": str(U)}),
        (
            BookingRequested(booking_id=B, unit_id=U, prospect=ProspectSnapshot(prospect_id=P, first_name="A", last_name="B")),
            "booking.status",
            {"booking_id": str(B), "unit_id": str(U), "status": "pending", "reason": None},
        ),
        (
            BookingConfirmed(booking_id=B, unit_id=U, prospect_id=P),
            "booking.status",
            {"booking_id": str(B), "unit_id": str(U), "status": "confirmed", "reason": None},
        ),
        (
            BookingRejected(booking_id=B, unit_id=U, prospect_id=P, reason="unit_not_available"),
            "booking.status",
            {"booking_id": str(B), "unit_id": str(U), "status": "rejected", "reason": "unit_not_available"},
        ),
        (
            BookingCancelled(booking_id=B, unit_id=U, prospect_ids=[P], reason="changed mind"),
            "booking.status",
            {"booking_id": str(B), "unit_id": str(U), "status": "cancelled", "reason": "changed mind"},
        ),
        (UnitBuyersChanged(unit_id=U, buyers=[]), "buyers.changed", {"unit_id": str(U)}),
    ],
)
def test_stream_tells_news_when_event_matters_to_clients(event, name, data):
    message = stream_message(event)
    assert message is not None
    assert (message.event, message.data, message.id) == (name, data, str(event.event_id))


def test_stream_stays_quiet_when_event_is_internal():
    assert stream_message(UnitReserved(unit_id=U, booking_id=B)) is None


@pytest.mark.parametrize(
    ("local_mode", "secret", "problem"),
    [
        (True, "local-secret", None),
        (True, "", None),
        (False, "local-secret", "not set"),
        (False, "", "not set"),
        (False, None, "not set"),
        (False, "x" * 31, "too short"),
        (False, "x" * 32, None),
    ],
)
def test_secret_is_judged_when_starting(local_mode, secret, problem):
    found = secret_problem(local_mode=local_mode, secret_key=secret, local_secret="local-secret")
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    ("local_mode", "existing", "admin_exists", "password", "created", "problem"),
    [
        (True, set(), False, None, ["admin", "agent", "viewer"], None),
        (True, {"admin"}, True, None, ["agent", "viewer"], None),
        (True, {"admin", "agent", "viewer"}, True, None, [], None),
        (False, set(), False, None, [], "GATEWAY_ADMIN_PASSWORD"),
        (False, set(), False, "admin", [], "refused"),
        (False, set(), False, "ADMIN", [], "refused"),
        (False, set(), False, "short", [], "refused"),
        (False, set(), False, "long enough", ["admin"], None),
        (False, {"boss"}, True, None, [], None),
        (False, {"admin"}, False, "long enough", [], "no admin"),
    ],
)
def test_initial_users_are_decided_when_starting(local_mode, existing, admin_exists, password, created, problem):
    seeds, found = decide_initial_users(
        local_mode=local_mode, existing=existing, admin_exists=admin_exists, admin_username="admin", admin_password=password
    )
    assert [s.username for s in seeds] == created
    assert (found is None) if problem is None else (problem in found)
