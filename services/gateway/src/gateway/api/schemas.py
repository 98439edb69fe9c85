from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from nyprod_kit.api import Timestamp

from ..domain import MIN_PASSWORD_LENGTH, USERNAME_PATTERN, Role

# user names are compared case-insensitively: "Anna" and "anna" are one user
Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=USERNAME_PATTERN),
    AfterValidator(str.lower),
]
# long enough to be a password, short enough that hashing it cannot be used to tire the server
NewPassword = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=1000)]



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(str.lower)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role
    username: str
    expires_in: int = Field(description="seconds until the token expires")


class MeOut(BaseModel):
    username: str
    role: Role


class UserCreate(Strict):
    username: Username
    password: NewPassword
    role: Role


class UserPatch(Strict):
    password: NewPassword | None = None
    role: Role | None = None


class UserOut(BaseModel):
    username: str
    role: Role
    created_at: Timestamp
    updated_at: Timestamp
