"""Which language the kiosk speaks to a member, read from gettext catalogues (domain `kiosk`).

The catalogues live in kiosk/words/locale/<lang>/LC_MESSAGES/kiosk.po, managed with Babel
(`pybabel extract -F babel.cfg`, `update`, `compile`; docs/languages.md). The English text in
wording.py is the message id, so a member with no language, or one without a catalogue, reads
English and nothing breaks.

The language is per thread of control (a ContextVar): the Kivy window's thread follows the member
on screen, the headless presenter speaks each line in its member's language, and the operators'
tools, logs and MQTT payloads never switch and stay English.
"""

import contextlib
import functools
import gettext
import io
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "en"

_current: ContextVar[str] = ContextVar("kiosk_language", default=DEFAULT)


def N_(message: str) -> str:
    """Marks a message id for `pybabel extract` where it is defined; it is translated where it is shown."""
    return message


def available() -> tuple[str, ...]:
    """The languages with a catalogue, as BCP 47 tags."""
    return tuple(sorted(p.parent.parent.name.replace("_", "-")
                        for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")))


def gettext_id(tag: str) -> str | None:
    """A BCP 47 tag (`de-AT`, `pt-BR`) as the catalogue's folder name with a catalogue, or None."""
    try:
        locale = Locale.parse(tag.strip(), sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    for name in (str(locale), locale.language):
        if (LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po").is_file():
            return name
    return None


def supported(tag: str | None, default: str | None = None) -> str:
    """The catalogue a member's tag falls to (`de-CH` reads `de`); else the site's default (`default`, when
    it has a catalogue), else English."""
    for candidate in (tag, default):
        found = gettext_id(candidate) if candidate else None
        if found:
            return found.replace("_", "-")
    return DEFAULT


@functools.cache
def catalogue(tag: str) -> gettext.NullTranslations:
    """The compiled catalogue for a tag. Bootstrap compiles the .mo files; when one is missing or older than
    its .po (a checkout without the build step), the .po is compiled in memory rather than falling back to
    English without a word."""
    name = gettext_id(tag)
    if name is None:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / name / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    with po.open("rb") as f:
        compiled = io.BytesIO()
        write_mo(compiled, read_po(f, locale=name, domain=DOMAIN))
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def current() -> str:
    return _current.get()


def use(tag: str | None, default: str | None = None) -> str:
    """Switches this thread's language (a member's tag, else the site's default); returns the one used."""
    chosen = supported(tag, default)
    _current.set(chosen)
    return chosen


@contextlib.contextmanager
def speaking(tag: str | None, default: str | None = None) -> Iterator[str]:
    """Words built inside are in `tag`'s language (else `default`'s); the language before is back afterwards."""
    token = _current.set(supported(tag, default))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _(message: str) -> str:
    # gettext("") is the catalogue's header, never a line for a member: an empty text stays empty.
    return catalogue(_current.get()).gettext(message) if message else message


def pgettext(context: str, message: str) -> str:
    return catalogue(_current.get()).pgettext(context, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current.get()).ngettext(singular, plural, n)


def number(value: float, decimals: int = 0) -> str:
    """A number as the member's locale writes it: `2.5` in English, `2,5` in German."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(round(value, decimals), format=pattern, locale=_current.get().replace("-", "_"))


def name(tag: str) -> str:
    """A language's own name for itself, for the one-tap choice: `Deutsch`, `Español`."""
    try:
        own = Locale.parse(tag, sep="-").get_display_name()
    except (ValueError, UnknownLocaleError):
        return tag
    return own[:1].upper() + own[1:] if own else tag
