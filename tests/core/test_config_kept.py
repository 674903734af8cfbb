"""The config a kiosk applied is kept in its data folder and comes back at start; a damaged or unsafe copy does not."""

import pytest

from kiosk.contract.config import KioskConfig
from kiosk.core.site.remote_config import LAYERS_FILE, ConfigKeeper


@pytest.mark.parametrize("kept", [b"{not json", b"[1, 2]", b'{"site": {"cues": {"lumbar_liftoffs_to_stop": 10}}, '
                                  b'"kiosk": {}}', b'{"site": {"version": "x"}}'])
def test_a_damaged_or_unsafe_kept_config_is_set_aside_for_the_kiosks_own(kept, tmp_path, caplog):
    data = tmp_path / "data"
    data.mkdir()
    (data / LAYERS_FILE).write_bytes(kept)
    keeper = ConfigKeeper(KioskConfig(), "generic-45")
    assert keeper.restore(data) is False
    assert keeper.applied == KioskConfig() and keeper.error is None
    assert "no longer applies" in caplog.text


def test_the_kept_config_comes_back_with_its_layers(tmp_path):
    keeper = ConfigKeeper(KioskConfig(), "generic-45")
    assert keeper.offer("site", b'{"version": "site-1", "idle_timeout_s": 120}')
    assert keeper.offer("kiosk", b'{"sound": false}')
    keeper.save(tmp_path)
    again = ConfigKeeper(KioskConfig(), "generic-45")
    assert again.restore(tmp_path) is True
    assert (again.applied.version, again.applied.idle_timeout_s, again.applied.sound) == ("site-1", 120, False)
    # A refused push leaves the restored layers in force, as it would the ones pushed in this run.
    assert not again.offer("site", b'{"machine_models": {"generic-45": {"travel_mm": 800}}}')
    assert again.applied.version == "site-1"
