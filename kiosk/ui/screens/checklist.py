"""The setup checklist before the first rep: the member ticks each line, or skips."""

from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen

from kiosk.ui.kv import load_beside
from kiosk.ui.widgets.common import CheckRow
from kiosk.words import wording as words


class ChecklistScreen(Screen):
    """Six short checks in two columns; `all_ticked` lights up the start button."""

    all_ticked = BooleanProperty(False)

    def on_kv_post(self, _base) -> None:
        self.rows = []
        for title, detail in words.CHECKLIST:
            row = CheckRow(title=words.tr(title), detail=words.tr(detail))
            row.bind(ticked=lambda *_: self._count())
            self.ids.grid.add_widget(row)
            self.rows.append(row)

    def retranslate(self) -> None:
        for row, (title, detail) in zip(self.rows, words.CHECKLIST, strict=True):
            row.title, row.detail = words.tr(title), words.tr(detail)

    def reset(self) -> None:
        for row in self.rows:
            row.ticked = False

    def _count(self) -> None:
        self.all_ticked = all(row.ticked for row in self.rows)


load_beside(__file__)
