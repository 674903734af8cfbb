"""One place that gathers what each unit refused or bounded, for the `defences` part of telemetry.

Each unit keeps its own counts (profiles, floors, commands, revocations,
camera); this only reads them, so telemetry and diagnostics say the same.
"""

from kiosk.contract.kiosk import DefenceCounters
from kiosk.core.access.camera import CameraSource, FolderSource
from kiosk.core.access.revocations import RevocationStats
from kiosk.core.command_desk import CommandDesk
from kiosk.core.machine.models import FloorStats
from kiosk.core.profiles.cache import ProfileStats


def defence_counters(floors: FloorStats, profiles: ProfileStats, commands: CommandDesk,
                     revocations: RevocationStats, camera: CameraSource | None) -> DefenceCounters:
    return DefenceCounters(
        profile_values_clamped=floors.profile_values_clamped,
        profiles_rev_refused=profiles.rev_refused,
        profiles_unknown_trimmed=profiles.unknown_trimmed,
        profiles_too_large=profiles.too_large,
        profiles_evicted=profiles.evicted,
        profiles_cached=profiles.cached,
        profiles_dropped=profiles.dropped,
        replies_redirected=commands.redirected,
        retained_commands_ignored=commands.retained_ignored,
        codes_revoked=revocations.refused_scans,
        revocation_entries=revocations.entries,
        revocation_lists_refused=revocations.lists_refused,
        camera_files_refused=camera.refused if isinstance(camera, FolderSource) else 0,
    )
