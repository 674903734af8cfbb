"""The attract screen: what to do, the camera, and what the last scan said."""

from contextlib import nullcontext

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.core.snapshot import ScanFeedback
from kiosk.ui.kv import load_beside
from kiosk.ui.widgets import common, language_bar  # noqa: F401 - widget classes the .kv uses
from kiosk.words import wording as words
from kiosk.words.language import speaking

FEEDBACK_SHOWN_S = 8.0
# The camera's live view: a few frames a second shows the card is seen, without costing the Pi its UI.
PREVIEW_HZ = 5


class AttractScreen(Screen):
    """Waits for a code: tells the member what to do and why the last code was refused."""

    feedback = StringProperty("")  # the last scan's line in English, empty once forgotten
    feedback_id = StringProperty("")  # ...as its message id and fills: shown in the screen's language
    feedback_fills = DictProperty({})
    # The goodbye of a member who just left stays in their language (the screen is back to the site's) until
    # someone taps a language; empty: the screen's language.
    feedback_language = StringProperty("")
    accepted = BooleanProperty(False)
    camera_status = StringProperty("")
    first_step = StringProperty(words.ATTRACT_STEPS[0])
    machine_line = StringProperty("")
    live = BooleanProperty(False)  # the camera box shows frames, not the camera icon

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._forget = Clock.create_trigger(self._clear, FEEDBACK_SHOWN_S)
        self._preview_tick = None
        self._shown_frames = -1
        self._texture: Texture | None = None

    def on_pre_enter(self, *_args) -> None:
        shown = App.get_running_app().kiosk.snapshot
        # From what the scanner already knows: probing could open the camera and stall the screen.
        if shown.camera == "none":
            self.camera_status, self.first_step = words.NO_CAMERA, words.SCAN_WITHOUT_CAMERA
        elif shown.camera_running and not shown.camera_error:
            self.camera_status, self.first_step = words.CAMERA_READY, words.ATTRACT_STEPS[0]
        else:
            self.camera_status, self.first_step = words.CAMERA_TROUBLE, words.SCAN_WITHOUT_CAMERA
        self.machine_line = words.machine_line(shown.machine)

    def retranslate(self) -> None:
        """The lines built here, again in the screen's new language (the .kv rules follow by themselves)."""
        self.feedback_language = ""
        self.machine_line = words.machine_line(App.get_running_app().kiosk.snapshot.machine)

    def on_enter(self, *_args) -> None:
        if self._preview_tick is None:
            self._preview_tick = Clock.schedule_interval(self._show_frame, 1 / PREVIEW_HZ)

    def on_leave(self, *_args) -> None:
        if self._preview_tick is not None:
            self._preview_tick.cancel()
            self._preview_tick = None

    def _show_frame(self, _dt: float) -> None:
        """Copy the scanner's newest frame into the one texture; the scanner thread already made it small."""
        frames, image = App.get_running_app().kiosk.camera_preview()
        if frames == self._shown_frames and image is not None:
            return
        self._shown_frames = frames
        if image is None:
            self.live = False
            return
        texture = self._texture
        if texture is None or texture.size != image.size:
            texture = self._texture = Texture.create(size=image.size, colorfmt="rgb")
            texture.flip_vertical()  # textures fill from the bottom row; images start at the top
            self.ids.camera_image.texture = texture
        texture.blit_buffer(image.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
        self.ids.camera_image.canvas.ask_update()
        self.live = True

    def show_feedback(self, feedback: ScanFeedback, language: str = "") -> None:
        """The scan's line; `language`: the one it keeps until a tap (a goodbye: the leaving member's)."""
        self.feedback_language = language
        self.feedback_id, self.feedback_fills = feedback.message_id or feedback.message, feedback.fills
        self.feedback, self.accepted = feedback.message, feedback.accepted
        self._forget.cancel()
        self._forget()

    def reset(self) -> None:
        """Forget the last scan's message and the camera's last frame: both may show the member who just left
        (a frame of their card has their name, id and a code that scans). The core forgets the frame too."""
        self._forget.cancel()
        self.feedback = ""
        self.live = False
        self._texture = None
        self.ids.camera_image.texture = None
        self._shown_frames = -1

    def _clear(self, _dt: float) -> None:
        self.feedback = ""

    def feedback_text(self, *_bound) -> str:
        """The last scan's line, in `feedback_language` if one is kept, else the screen's; `_bound`: the
        properties the .kv rule follows."""
        with speaking(self.feedback_language) if self.feedback_language else nullcontext():
            return words.told(self.feedback_id, self.feedback_fills)


load_beside(__file__)
