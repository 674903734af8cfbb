"""Text that reaches a screen, a terminal, a log or a spreadsheet: printable, one line, no control characters.

Two checks. `PLAIN_TEXT` refuses: for what a sender chooses (an operator's
`message`, a kiosk's `version` or `machine_model`). `ESCAPED_TEXT` never refuses
but shows each such character as a visible backslash-u escape (`\\uXXXX`): for text a kiosk builds from
what it was sent (the `detail` of a refused scan or sensor payload quotes it),
so hostile input can neither make the kiosk fail to report it nor reach a reader raw.

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


def escape_controls(text: str) -> str:
    """`text` with every character `check_plain_text` refuses shown as a visible `\\uXXXX` escape."""
    if all(unicodedata.category(ch) not in _REFUSED_CATEGORIES for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch for ch in text)


# What a spreadsheet takes for a formula at the start of a cell (OWASP's CSV injection list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: text starting like one gets a leading `'`; numbers stay."""
    if text.startswith(_FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in ("inf", "infinity", "nan")


# Put after the field's own length limits, so a too-long text still says so in the usual words:
# `Annotated[str, Field(max_length=40), PLAIN_TEXT]`.
PLAIN_TEXT = AfterValidator(check_plain_text)


def escaped_within(limit: int) -> AfterValidator:
    def escape(text: str) -> str:
        pieces, size = [], 0
        for ch in text:
            piece = f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _REFUSED_CATEGORIES else ch
            if size + len(piece) > limit:
                break  # cut between characters, never inside an escape
            pieces.append(piece)
            size += len(piece)
        return "".join(pieces)

    return AfterValidator(escape)


# Free text a kiosk builds from what it was sent: escaped, at most 200 characters once escaped.
ESCAPED_TEXT = escaped_within(200)
# A label a sender picks for itself (a version, a machine model): plain text, short.
LABEL_MAX = 64
# An id for a session: what a kiosk makes (hex) and nothing a terminal or a spreadsheet would act on.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
