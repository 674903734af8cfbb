"""The screen in the member's language: one tap switches it, at once, text already on screen included.

Rules in the .kv files write `_('Save', app.language)`: `_` translates its first argument and ignores the
rest, which are there so Kivy re-reads the rule whenever `app.language` changes. Text a screen builds in
Python is built again by its `retranslate()` when the language changes.

The language lives in the Kivy thread's context (`kiosk.words.language`): the core thread, its logs and
its payloads are not switched by a tap.
"""

from typing import Any

from kiosk.words import language, wording


def _(message: str, *_bound: Any) -> str:
    """`message` in the screen's language; `_bound`: the Kivy properties the rule follows."""
    return wording.tr(message)


def built(text: str, *_bound: Any) -> str:
    """Text a wording function already built in the screen's language: `_bound` (`app.language`) makes the
    rule build it again when the language changes."""
    return text


def speak(app: Any, tag: str | None) -> None:
    """Switch the screen to `tag` (else the site's default, `languages[0]`): every rule and screen follows."""
    chosen = language.use(tag, app.languages[0] if app.languages else None)
    if chosen == app.language:
        return
    app.language = chosen
    # The screens, and the layers over them (a stop, a message) that may be up at the tap.
    layers = app.root.children if app.root is not None else ()
    for screen in (*app.manager.screens, *layers):
        retranslate = getattr(screen, "retranslate", None)
        if retranslate is not None:
            retranslate()
