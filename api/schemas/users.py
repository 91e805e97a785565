"""Users, sign-in and passwords."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from mom.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from mom.users import Role

USERNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAME_LIST_ITEM = Field(min_length=1, max_length=100)
POLICY = (f"at least {MIN_PASSWORD_LENGTH} characters, not the user name, no runs or repetitions, not a common "
          f"password (mom.passwords); refused with 422 naming the rule")


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str | None
    roles: list[str]
    groups: list[str]
    work_centers: list[str]
    active: bool
    must_change_password: bool
    created_at: datetime
    locked_at: datetime | None = Field(default=None, description="locked after too many failed sign-ins since "
                                                                  "then, until an administrator unlocks it")


class UserCreate(BaseModel):
    username: str = Field(pattern=USERNAME)
    password: str = Field(max_length=MAX_PASSWORD_LENGTH, description=POLICY)
    full_name: str | None = Field(default=None, max_length=200)
    roles: list[Role] = Field(default_factory=list, max_length=4)
    groups: list[str] = Field(default_factory=list, max_length=50)
    work_centers: list[str] = Field(default_factory=list, max_length=50)
    must_change_password: bool = Field(
        default=False, description="a one-time password the administrator hands over: the user chooses their own at "
                                   "the first sign-in")


class UserUpdate(BaseModel):
    full_name: str | None = Field(default=None, max_length=200)
    roles: list[Role] | None = Field(default=None, max_length=4)
    groups: list[str] | None = Field(default=None, max_length=50)
    work_centers: list[str] | None = Field(default=None, max_length=50)
    active: bool | None = None


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH, description=POLICY)


class PasswordReset(BaseModel):
    new_password: str = Field(max_length=MAX_PASSWORD_LENGTH, description=POLICY)
