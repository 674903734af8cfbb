"""Text from operators that reaches a screen or a log: printable, one paragraph, no control characters.

A newline in a `message` would forge a line in the kiosk's log, and escape
sequences or bidirectional overrides would make a screen or a terminal say
something other than what was sent. Tabs are refused too: nothing here needs
them.
"""

import unicodedata

from pydantic import AfterValidator

# Unicode categories that print nothing of their own and can reorder or hide what does.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def check_plain_text(text: str) -> str:
    for i, ch in enumerate(text):
        if unicodedata.category(ch) in _REFUSED_CATEGORIES:
            raise ValueError(f"control or formatting character U+{ord(ch):04X} at position {i} is not allowed; "
                             "send plain text on one line")
    return text


# Put after the field's own length limits, so a too-long text still says so in the usual words:
# `Annotated[str, Field(max_length=40), PLAIN_TEXT]`.
PLAIN_TEXT = AfterValidator(check_plain_text)
