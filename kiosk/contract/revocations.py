"""Member codes the front desk withdrew, retained per site on `gym/v1/{site}/config/revocations`.

One entry names a member and a time: every code of that member issued
before it is refused, so a lost card or a leaked screenshot of a staff code
is revoked by one line, and the code issued to replace it still works.
An empty retained payload clears the list.
"""

from typing import Annotated

from pydantic import Field

from kiosk.contract.base import ConfigModel, Timestamp
from kiosk.contract.ids import Id
from kiosk.contract.text import PLAIN_TEXT

MAX_REVOCATIONS = 1000


class Revocation(ConfigModel):
    """Codes of `member` issued before `issued_before` are refused."""

    member: Id
    issued_before: Annotated[Timestamp, Field(description="Unix time: codes with an older `iat` are refused.")]
    note: Annotated[str, Field(max_length=200, description="Why, for operators; never shown to members."),
                    PLAIN_TEXT] = ""


class RevocationList(ConfigModel):
    """The site's whole list: each publish replaces the previous one."""

    updated: Timestamp
    revoked: Annotated[list[Revocation], Field(max_length=MAX_REVOCATIONS)] = []

    def cutoffs(self) -> dict[str, float]:
        """Member -> the latest `issued_before` named for them."""
        cut: dict[str, float] = {}
        for entry in self.revoked:
            cut[entry.member] = max(cut.get(entry.member, 0.0), entry.issued_before)
        return cut
