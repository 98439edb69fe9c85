from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from contracts.types import BookingStatus, UnitStatus
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from nyprod_kit.api import Timestamp

from ..domain import ProspectStatus, check_phone

EMAIL_MAX_LENGTH = 254


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValueError(f"an e-mail address has at most {EMAIL_MAX_LENGTH} characters")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from None


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, AfterValidator(check_phone)]
Note = Annotated[str, StringConstraints(max_length=10_000)]
Reason = Annotated[str, StringConstraints(max_length=1000)]
UnitIds = Annotated[list[UUID], Field(max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- prospects ------------------------------------------------------------------------------


class ProspectCreate(Strict):
    first_name: Name
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None
    note: Note | None = None
    interests: UnitIds = []


class ProspectPatch(Strict):
    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    note: Note | None = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _names_stay(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a prospect always has a name")
        return value


class InterestsPut(Strict):
    unit_ids: UnitIds


class ProspectOut(BaseModel):
    id: UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    note: str | None
    status: ProspectStatus
    created_at: Timestamp
    updated_at: Timestamp


class InterestOut(BaseModel):
    unit_id: UUID
    unit_name: str | None
    unit_status: UnitStatus | None
    bookable: bool


class CardBookingOut(BaseModel):
    booking_id: UUID
    unit_id: UUID
    unit_name: str | None
    status: BookingStatus


class CustomerCardOut(ProspectOut):
    """Kundkort: the prospect, the units they want and their bookings."""

    interests: list[InterestOut]
    bookings: list[CardBookingOut]


# ---- bookings -------------------------------------------------------------------------------


class BookingCreate(Strict):
    prospect_id: UUID
    unit_id: UUID


class BookingAccepted(BaseModel):
    booking_id: UUID
    status: BookingStatus


class BookingOut(BaseModel):
    booking_id: UUID
    prospect_id: UUID
    unit_id: UUID
    status: BookingStatus
    reason: str | None
    buyers: list[UUID]
    created_at: Timestamp
    updated_at: Timestamp


class BookingCancel(Strict):
    reason: Reason | None = None


class CoBuyerAdd(Strict):
    prospect_id: UUID


class BookingStepOut(BaseModel):
    at: Timestamp
    step: str
    status: BookingStatus
    reason: str | None
    by: str | None
    prospect_id: UUID | None


# ---- buyers ---------------------------------------------------------------------------------


CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")


class BuyerCreate(Strict):
    """Either an existing prospect (``prospect_id``) or the contact data of a new one."""

    unit_id: UUID
    prospect_id: UUID | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _an_existing_or_a_new_prospect(cls, data: Any, handler: Any) -> Any:
        # reported together with the fields' own errors, so one answer names every bad field
        problems = _who_problems(data) if isinstance(data, dict) else []
        try:
            model = handler(data)
        except ValidationError as exc:
            if not problems:
                raise
            raise ValidationError.from_exception_data(cls.__name__, [*map(_init_details, exc.errors()), *problems]) from None
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return model


def _who_problems(data: dict[str, Any]) -> list[InitErrorDetails]:
    if data.get("prospect_id") is not None:
        both = PydanticCustomError("prospect_or_contact", "give either prospect_id or a new prospect's contact data, not both")
        return [{"type": both, "loc": (k,), "input": data[k]} for k in CONTACT_FIELDS if data.get(k) is not None]
    return [{"type": "missing", "loc": (k,), "input": data} for k in ("first_name", "last_name") if data.get(k) is None]


def _init_details(error: Any) -> InitErrorDetails:
    details: InitErrorDetails = {"type": error["type"], "loc": error["loc"], "input": error["input"]}
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


class BuyerAccepted(BookingAccepted):
    prospect_id: UUID
