"""How often a cue may be shown again."""


class CueGate:
    """Lets the same cue through at most once per `repeat_s`: a member needs time to act on it."""

    def __init__(self, repeat_s: float):
        self.repeat_s = repeat_s
        self._last: dict[str, float] = {}

    def allow(self, cue: str, ts: float) -> bool:
        last = self._last.get(cue)
        # A clock that jumped backwards re-opens the gate rather than muting the cue.
        if last is not None and 0 <= ts - last < self.repeat_s:
            return False
        self._last[cue] = ts
        return True

    def note(self, cue: str, ts: float) -> None:
        """Record a cue that bypassed the gate, so the interval counts from it."""
        self._last[cue] = ts
