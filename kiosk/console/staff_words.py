"""What the console says to staff, in one place. Members' words stay in `kiosk.words.wording`."""

from kiosk.console.alerts import Alert
from kiosk.words import wording

PAIN_KINDS = dict(wording.PAIN_KINDS)
# What a kiosk screen is called when the console tells the member staff have seen their alert.
SEEN_BY = "Front desk"


def first_name(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


def display_name(staff: str) -> str:
    """A staff account's name as a member reads it: `aoife-k` -> `Aoife K`."""
    return " ".join(p.capitalize() for p in staff.replace("_", " ").replace("-", " ").split())[:40] or staff


def cue_headline(cue: str, severity: str) -> str:
    headline, _detail = wording.cue_text(cue, severity)
    return headline


def alert_title(alert: Alert) -> str:
    m = alert.machine
    who = f" ({alert.member})" if alert.member else ""
    match alert.kind:
        case "pain":
            kind = PAIN_KINDS.get(alert.detail, "").lower()
            return f"Pain on {m}{who}: {kind}" if kind else f"Pain on {m}{who}: stopped, kind not told yet"
        case "stopped":
            return f"Set stopped on {m}{who}: {alert.detail}"
        case "kiosk_lost":
            return f"Kiosk lost on {m}: {alert.detail}"
        case "sensor":
            return f"Sensor on {m}: {alert.detail}"
        case "command":
            return f"Command failed on {m}: {alert.detail}"
    return f"{alert.kind} on {m}"
