"""The core's shape: a composition that does nothing until started, units that say what they own,
and the mode rules on their own (the behaviour through MQTT is in test_sessions and test_fleet_ops)."""

import ast
import importlib
import inspect
import pkgutil
import threading
from pathlib import Path

import kiosk.core
from kiosk.contract.kiosk import KioskMode
from kiosk.core.kiosk import Kiosk
from kiosk.core.modes import MAINTENANCE_IDLE_FACTOR, Modes
from kiosk.core.settings import load_settings
from kiosk.core.unit import Unit
from tests.support.helpers import FakeClock
from tests.support.kiosk_harness import Keyring

CORE = Path(kiosk.core.__file__).parent
# The acceptance line of the house-plan issue: a composition a newcomer reads in one sitting.
KIOSK_MAX_LINES = 350


def test_a_kiosk_built_and_thrown_away_touches_no_disk_broker_or_camera(tmp_path):
    data, camera = tmp_path / "data", tmp_path / "camera"
    camera.mkdir()
    threads = set(threading.enumerate())
    # A port nothing listens on: a connect attempt would show up as a thread or an error, not a hang.
    settings = load_settings(site="shape", machine="lp1", broker="mqtt://127.0.0.1:9", data_dir=data,
                             trusted_keys=Keyring(tmp_path).trusted, camera=f"files:{camera}")
    # Loading the settings checks the data folder is writable (one readable line at startup if not);
    # the kiosk itself writes nothing there until `start()`.
    before = sorted(data.rglob("*"))
    kiosk = Kiosk(settings)
    assert sorted(data.rglob("*")) == before == [], "the constructor wrote to the data folder"
    assert set(threading.enumerate()) == threads, "the constructor started a thread"
    assert not kiosk.link.connected and not kiosk.scanner.running
    assert kiosk.mode == "idle" and kiosk.session is None and kiosk.snapshot.mode == "idle"


def test_every_unit_says_in_its_first_lines_which_topics_it_owns():
    units = []
    for info in pkgutil.walk_packages([str(CORE)], prefix="kiosk.core."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Unit) and cls is not Unit and cls.__module__ == module.__name__:
                units.append((info.name, cls.__name__))
                opening = " ".join((module.__doc__ or "").splitlines()[:3])
                assert opening.startswith("Unit `") and "owns" in opening, f"{info.name}: {opening[:80]!r}"
    started = {type(unit).__name__ for unit in Kiosk(load_settings(site="shape", machine="lp1")).units}
    assert {name for _, name in units} == started, "a unit the kiosk does not compose, or one outside kiosk/core"


def test_every_core_package_says_what_it_owns():
    packages = [info.name for info in pkgutil.walk_packages([str(CORE)], prefix="kiosk.core.") if info.ispkg]
    assert {"kiosk.core.cues", "kiosk.core.machine", "kiosk.core.sensor", "kiosk.core.access",
            "kiosk.core.profiles", "kiosk.core.site", "kiosk.core.training"} <= set(packages)
    for name in packages:
        doc = importlib.import_module(name).__doc__ or ""
        assert len(doc.split()) >= 12, f"{name}: its __init__ docstring should say what the package owns"


def test_no_import_cycle_anywhere_in_the_package():
    import grimp

    graph = grimp.build_graph("kiosk")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert not cycles, cycles


def test_the_contract_imports_nothing_else_of_the_project_not_even_the_root_package():
    import grimp

    graph = grimp.build_graph("kiosk")
    outside = {
        (module, imported)
        for module in graph.find_descendants("kiosk.contract")
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.startswith("kiosk") and not imported.startswith("kiosk.contract")
    }
    assert not outside, outside


def test_the_kiosk_module_stays_a_composition():
    source = (CORE / "kiosk.py").read_text()
    lines = source.count("\n")
    assert lines <= KIOSK_MAX_LINES, f"kiosk.py has {lines} lines: move a concern into its own part"
    # Topic strings belong to the units that own them.
    tree = ast.parse(source)
    listened = [node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "listen"]
    assert not listened, "kiosk.py subscribes to a topic itself"


def modes_on(clock: FakeClock) -> tuple[Modes, list[KioskMode]]:
    changes: list[KioskMode] = []
    return Modes(clock.now, on_change=changes.append), changes


def test_out_of_order_waits_for_a_technician_in_maintenance_and_for_a_session_to_end():
    clock = FakeClock()
    modes, changes = modes_on(clock)
    modes.set("maintenance")
    modes.out_of_order("cable frayed")
    assert modes.mode == "maintenance", "a technician at work is not thrown out"
    modes.leave_maintenance()
    assert modes.mode == "out_of_order" and changes == ["maintenance", "out_of_order"]
    modes.in_service()
    modes.set("session")
    modes.out_of_order("belt worn")
    assert modes.mode == "session", "the session's end is what rests the kiosk"
    modes.rest()
    assert modes.mode == "out_of_order"
    modes.in_service()
    assert modes.mode == "idle" and modes.out_of_order_reason is None


def test_maintenance_left_untouched_is_left_and_a_touch_keeps_it():
    clock = FakeClock()
    modes, _ = modes_on(clock)
    modes.toggle_maintenance()
    idle_s = 90.0
    clock.advance(idle_s * MAINTENANCE_IDLE_FACTOR - 1)
    modes.maintenance_touched(clock.now())
    clock.advance(idle_s * MAINTENANCE_IDLE_FACTOR - 1)
    modes.tick(clock.now(), idle_s)
    assert modes.mode == "maintenance"
    clock.advance(1)
    modes.tick(clock.now(), idle_s)
    assert modes.mode == "idle"
    modes.toggle_maintenance()
    modes.toggle_maintenance()
    assert modes.mode == "idle", "a second staff scan closes maintenance"
