"""What the node needs to start: where it is, its broker, its parts and their pins, its rate and calibration.

From a TOML file (`--config` or `LEGPRESS_NODE_CONFIG`) with `LEGPRESS_NODE_*` variables over it (nested
with `__`: `LEGPRESS_NODE_SLED__KIND=tof`, `LEGPRESS_NODE_LUMBAR__PIN=17`). Every error is one line naming
the setting and its variable, because a technician reads it on a Pi's console with a ladder in the other hand.
"""

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kiosk.contract.ids import Id
from kiosk.host.settings_file import SettingsFileError, read_settings, setting_name
from kiosk.mqtt.broker_url import BrokerSettingError, BrokerUrl, login_missing, resolve_broker

ENV_PREFIX = "LEGPRESS_NODE_"
DEFAULT_BROKER = "mqtt://127.0.0.1:1883"

# BCM numbers of the 40-pin header's GPIOs. 0 and 1 hold the HAT EEPROM's bus; 2 and 3 are I2C.
BcmPin = Annotated[int, Field(ge=2, le=27, description="BCM GPIO number (2-27), not the header's pin number")]
I2C_PINS = (2, 3)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EncoderSled(_Part):
    """A draw-wire (string) encoder: its wire pulled out as the sled comes down, read in quadrature."""

    kind: Literal["encoder"] = "encoder"
    pin_a: BcmPin = Field(23, title="Channel A", description="BCM pin of the encoder's A output")
    pin_b: BcmPin = Field(24, title="Channel B", description="BCM pin of the encoder's B output")
    counts_per_mm: float = Field(1.0, gt=0, le=1000, title="Counts per mm",
                                 description="full quadrature cycles per mm of wire (the encoder's pulses "
                                             "per revolution over the drum's circumference in mm)")
    reverse: bool = Field(False, title="Reverse", description="count the other way (A and B swapped in wiring)")
    travel_mm: float = Field(700.0, gt=50, le=1900, title="Longest believable travel",
                             description="beyond it (or 30 mm above the start) the wire is out of range: a fault, "
                                         "never a reading")


class TofSled(_Part):
    """A VL53L1X time-of-flight sensor on I2C, looking along the rail at a target on the sled."""

    kind: Literal["tof"] = "tof"
    address: int = Field(0x29, ge=0x08, le=0x77, title="I2C address", description="the VL53L1X's is 0x29")
    extended_mm: float = Field(120.0, ge=0, le=4000, title="Distance with legs extended",
                               description="what the sensor reads with the sled at full extension")
    bottom_mm: float = Field(620.0, ge=0, le=4000, title="Distance at the bottom stop",
                             description="what the sensor reads with the sled on its bottom stop")
    timing_budget_ms: Literal[15, 20, 33, 50] = Field(15, title="Timing budget",
                                                      description="time per range in ms (short mode): "
                                                                  "longer is steadier but slower")

    @model_validator(mode="after")
    def _apart(self) -> "TofSled":
        if abs(self.bottom_mm - self.extended_mm) < 50:
            raise ValueError("extended_mm and bottom_mm must be at least 50 mm apart (the sled's travel)")
        return self


def _sled_kind(value: Any) -> str:
    # A sled table without `kind` is the encoder, the default part, so `[sled] counts_per_mm = 2` works.
    kind = value.get("kind", "encoder") if isinstance(value, dict) else getattr(value, "kind", None)
    return str(kind)


SledPart = Annotated[Annotated[EncoderSled, Tag("encoder")] | Annotated[TofSled, Tag("tof")],
                     Discriminator(_sled_kind, custom_error_type="sled_kind",
                                   custom_error_message="kind must be 'encoder' or 'tof'")]


class PadSwitch(_Part):
    """A tape switch or pressure mat under a pad, closed (to ground) while the member rests on it."""

    kind: Literal["switch"] = "switch"
    pin: BcmPin | None = Field(None, title="Pin", description="BCM pin of the switch; unset: no switch fitted")
    debounce_ms: int = Field(30, ge=2, le=500, title="Debounce",
                             description="the level must hold this long to count: contact bounce and a "
                                         "member shifting on the pad give one lift-off, not several")


class PadFsr(_Part):
    """A force-sensitive resistor under a pad, read through an ADS1115: more pressure, more volts.

    Wired as a divider (FSR from 3.3 V to the input, 10 kOhm from the input to ground). Two thresholds
    make a hysteresis: a member whose back rests lightly, with the reading wandering between them, is
    neither lifted nor set down again on every wobble.
    """

    kind: Literal["fsr"]
    channel: int = Field(0, ge=0, le=3, title="ADS1115 input", description="A0-A3")
    pressed_v: float = Field(1.2, gt=0, le=3.3, title="Pressed at",
                             description="at or above this the pad is loaded (someone rests on it)")
    released_v: float = Field(0.6, ge=0, lt=3.3, title="Released at",
                              description="at or below this the pad is unloaded (a lift-off)")
    debounce_ms: int = Field(30, ge=2, le=500, title="Debounce",
                             description="the level must hold this long to count")

    @model_validator(mode="after")
    def _hysteresis(self) -> "PadFsr":
        if self.released_v >= self.pressed_v:
            raise ValueError(f"released_v ({self.released_v:g} V) must be below pressed_v ({self.pressed_v:g} V)")
        return self


def _pad_kind(value: Any) -> str:
    kind = value.get("kind", "switch") if isinstance(value, dict) else getattr(value, "kind", None)
    return str(kind)


PadPart = Annotated[Annotated[PadSwitch, Tag("switch")] | Annotated[PadFsr, Tag("fsr")],
                    Discriminator(_pad_kind, custom_error_type="pad_kind",
                                  custom_error_message="kind must be 'switch' or 'fsr'")]


class NodeSettings(BaseSettings):
    """One node: the machine it measures, its broker, its sled sensor and its pads."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
                                      validate_default=True)

    site: Id
    machine: Id
    broker: str = Field(DEFAULT_BROKER, description="mqtt[s]://[user:pass@]host:port of the kiosk's broker "
                                                     "(its sensor listener)")
    broker_ca: Path | None = None
    broker_secrets: Path | None = Field(None, description="secrets/sensor-<machine>.toml from the broker render")
    client_id: str | None = Field(None, max_length=64, description="default sensor-<machine>")
    rate_hz: float = Field(50.0, ge=20, le=100, title="Depth rate",
                           description="depth samples per second; the kiosk's cues need at least 20")
    sled: SledPart = Field(EncoderSled(), description="the sled sensor: a draw-wire encoder or a VL53L1X")
    lumbar: PadPart = Field(PadSwitch(pin=17), description="the back pad's switch or FSR (lower back)")
    pelvis: PadPart = Field(PadSwitch(pin=27), description="the seat's switch or FSR (hips)")
    adc_address: int = Field(0x48, ge=0x48, le=0x4B, title="ADS1115 address",
                             description="the ADC the FSR pads are read through (ADDR to GND: 0x48)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _pins_apart(self) -> "NodeSettings":
        used: dict[int, str] = {}
        pads = (("lumbar", self.lumbar), ("pelvis", self.pelvis))
        wanted: list[tuple[str, int]] = []
        if isinstance(self.sled, EncoderSled):
            wanted += [("sled.pin_a", self.sled.pin_a), ("sled.pin_b", self.sled.pin_b)]
        else:
            wanted += [("sled (I2C SDA)", I2C_PINS[0]), ("sled (I2C SCL)", I2C_PINS[1])]
            if 1000 / self.sled.timing_budget_ms < self.rate_hz:
                raise ValueError(f"rate_hz {self.rate_hz:g} is faster than the sensor ranges with a "
                                 f"{self.sled.timing_budget_ms} ms timing budget")
        fsrs = [(zone, pad) for zone, pad in pads if isinstance(pad, PadFsr)]
        if fsrs and isinstance(self.sled, EncoderSled):
            wanted += [(f"{fsrs[0][0]} (ADS1115 on I2C SDA)", I2C_PINS[0]),
                       (f"{fsrs[0][0]} (ADS1115 on I2C SCL)", I2C_PINS[1])]
        if len(fsrs) == 2 and fsrs[0][1].channel == fsrs[1][1].channel:
            raise ValueError(f"lumbar.channel and pelvis.channel are both A{fsrs[0][1].channel}")
        wanted += [(f"{zone}.pin", pad.pin) for zone, pad in pads if isinstance(pad, PadSwitch) and pad.pin is not None]
        for name, pin in wanted:
            if pin in used:
                raise ValueError(f"{name} is GPIO{pin}, already used by {used[pin]}")
            used[pin] = name
        return self

    @property
    def broker_url(self) -> BrokerUrl:
        url = self.broker if "broker" in self.model_fields_set else None
        return resolve_broker(url, self.broker_ca, self.broker_secrets, default=DEFAULT_BROKER)

    @property
    def link_client_id(self) -> str:
        return self.client_id or f"sensor-{self.machine}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


class SettingsError(ValueError):
    """A setting that stops the node from starting; the message is one line naming it."""


# A discriminated union puts the chosen kind in the path (`sled.tof.address`); the variable has no such part.
KINDS = ("encoder", "tof", "switch", "fsr")


def _setting_name(loc: tuple[int | str, ...]) -> str:
    return setting_name(loc, ENV_PREFIX, skip=KINDS)


def load_node_settings(config_file: str | Path | None = None, **overrides: Any) -> NodeSettings:
    """Build the settings or raise `SettingsError` with one readable line."""
    try:
        settings = read_settings(NodeSettings, ENV_PREFIX, config_file, overrides,
                                 skip=KINDS)
    except SettingsFileError as exc:
        raise SettingsError(str(exc)) from None
    try:
        url = settings.broker_url
    except BrokerSettingError as exc:
        raise SettingsError(f"setting {_setting_name((exc.setting,))}: {exc}") from None
    if why := login_missing(url, ENV_PREFIX):
        raise SettingsError(why)
    return settings
