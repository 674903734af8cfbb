"""Ids of sites, machines and members, as the contract constrains them."""

import re
from typing import Annotated

from pydantic import StringConstraints

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_ID_RE = re.compile(ID_PATTERN)

# One annotated type so every model that carries an id validates it the same way.
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class BadId(ValueError):
    """An id that does not match the contract's pattern."""


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def check_id(value: str, what: str = "id") -> str:
    """Return `value` if it is a valid id, else raise `BadId` naming `what`."""
    if not is_valid_id(value):
        raise BadId(f"{what} {value!r} is not a valid id (lowercase letters, digits, '_' or '-', "
                    "1-32 characters, starting with a letter or digit)")
    return value
