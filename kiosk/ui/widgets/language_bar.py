"""The one-tap language choice on the attract and settings screens."""

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.ui import theme
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets.common import KioskButton
from kiosk.words import language


class LanguageButton(KioskButton):
    """One language, named in itself; smaller type than a KioskButton (four share the camera's width)."""

    tag = StringProperty("")


class LanguageBar(BoxLayout):
    """The site's languages, each a button in its own name (`Deutsch`, `Español`): one tap switches the
    screen and, with a member at the machine, saves the choice to their profile. Hidden with one language."""

    def on_kv_post(self, _base) -> None:
        app = App.get_running_app()
        app.bind(languages=lambda *_: self._build(), language=lambda *_: self._mark())
        self._build()

    def _build(self) -> None:
        app = App.get_running_app()
        self.clear_widgets()  # the site's languages, again: a config push may have changed them
        offered = list(app.languages)
        self.opacity, self.disabled = (1, False) if len(offered) > 1 else (0, True)
        for tag in offered if len(offered) > 1 else []:
            button = LanguageButton(text=language.name(tag), tag=tag)
            button.bind(on_release=lambda b: App.get_running_app().choose_language(b.tag))
            self.add_widget(button)
        self._mark()

    def _mark(self) -> None:
        """The language on screen stands out; the others are plain."""
        current = language.supported(App.get_running_app().language)
        for button in self.children:
            button.tint = theme.ACCENT if language.supported(button.tag) == current else theme.PANEL_LIGHT


load_beside(__file__)
