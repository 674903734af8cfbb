"""The claims inside a member QR code (`LP1.<claims>.<signature>`)."""

from typing import Annotated

from pydantic import Field, model_validator

from kiosk.contract.base import CommandModel, Timestamp
from kiosk.contract.events import Role
from kiosk.contract.ids import Id
from kiosk.contract.text import PLAIN_TEXT

CODE_PREFIX = "LP1"


class MemberClaims(CommandModel):
    """Signed by the operators' private key; kiosks only verify."""

    sub: Id
    name: Annotated[str, Field(max_length=40), PLAIN_TEXT] = ""
    role: Role = "member"
    iat: Timestamp
    exp: Timestamp | None = None
    kid: Id

    @model_validator(mode="after")
    def _expiry_after_issue(self) -> "MemberClaims":
        if self.exp is not None and self.exp <= self.iat:
            raise ValueError("exp must be after iat")
        return self
