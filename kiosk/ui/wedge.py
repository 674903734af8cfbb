"""A keyboard-wedge scanner: a USB scanner (or staff at a keyboard) types a code and presses Enter."""

from collections.abc import Callable

from kivy.clock import Clock
from kivy.core.window import Window

ENTER_KEYS = (13, 271)  # Return and keypad Enter
# A scanner types a whole code in well under a second; anything older is a stray key press.
SILENCE_S = 1.0


class KeyboardWedge:
    """Collects typed text from the window and hands a finished code to `on_code`.

    Text comes from `on_textinput` (it has the shifted characters a code
    needs, which `on_key_down` keycodes do not); Enter comes from
    `on_key_down`. The buffer is dropped after `SILENCE_S` without a key.
    """

    def __init__(self, on_code: Callable[[str], None], window=Window):
        self._on_code = on_code
        self._window = window
        self.buffer = ""
        self._forget = Clock.create_trigger(self._clear, SILENCE_S)
        window.bind(on_textinput=self._on_text, on_key_down=self._on_key)

    def close(self) -> None:
        self._window.unbind(on_textinput=self._on_text, on_key_down=self._on_key)
        self._forget.cancel()

    def _on_text(self, _window, text: str) -> None:
        self.buffer += text
        self._forget.cancel()
        self._forget()

    def _on_key(self, _window, key: int, *_args) -> bool:
        if key not in ENTER_KEYS:
            return False
        code, self.buffer = self.buffer.strip(), ""
        self._forget.cancel()
        if code:
            self._on_code(code)
        return True

    def _clear(self, _dt: float) -> None:
        self.buffer = ""
