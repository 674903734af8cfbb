"""A member at the machine, in few steps: the profile the fleet keeps, the scan, the way to the set screen."""

import json
import time

from kiosk.contract.profile import MachineSettings, MemberProfile
from kiosk.dev.broker import publish

MODEL = "generic-45"
SAVED = MachineSettings(backrest_notch=2, foot_height="high", toe_angle_deg=10, target_depth_mm=250,
                        max_depth_mm=330, top_mm=30)


def seed_profile(ui, member: str, settings: MachineSettings = SAVED) -> None:
    """The member's profile as the fleet keeps it: retained on the site's profile topic."""
    profile = MemberProfile(member=member, name="Jo", rev=1, updated=time.time(), machines={MODEL: settings})
    publish(ui.broker, ui.kiosk.topics.profile(member), profile.model_dump_json(), retain=True)
    ui.driver.until(lambda: ui.kiosk.inbox.call(lambda: ui.kiosk.profiles.book.get(member)) is not None, what="profile")


def start_member(ui, member: str, name: str = "Jo", settings: MachineSettings = SAVED) -> None:
    """A returning member scans in and lands on their settings screen."""
    seed_profile(ui, member, settings)
    ui.scan(ui.keyring.code(member, name))
    ui.driver.until(lambda: ui.current() == "settings", what="settings screen")


def on_set_screen(ui, member: str) -> None:
    start_member(ui, member)
    ui.driver.tap(ui.app.screen("settings").ids.next)
    ui.driver.tap(ui.app.screen("checklist").ids.skip)
    assert ui.current() == "set"


def push_config(ui, patch: dict | None) -> None:
    """An operator's config push to this kiosk (None withdraws it), applied before this returns."""
    payload = json.dumps(patch) if patch is not None else ""
    publish(ui.broker, ui.kiosk.topics.kiosk_config_set, payload, retain=True)
    want = {**(patch or {})}
    ui.driver.until(lambda: all(getattr(ui.kiosk.config, k) == v for k, v in want.items())
                    and (patch is not None or ui.kiosk.config.scan_repeat_s == 0), what="config applied")
