"""A language as a BCP 47 tag (`de`, `de-AT`, `pt-BR`): what a member's profile and the site config name."""

from typing import Annotated

from pydantic import Field

# Language, then subtags (region, script, variant); a loose check of RFC 5646's shape, enough to refuse
# anything that is not a tag (spaces, underscores, markup) before it reaches a screen or a file name.
LanguageTag = Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                                   description="A BCP 47 language tag, e.g. `de` or `de-AT`.")]
