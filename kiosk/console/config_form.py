"""The config form, generated from the pydantic models: one field per setting of `KioskConfig`, its
description as help text, and the form's answer turned back into a partial config (a push).

Nothing here knows a field by name: a setting added to the model appears in the
form with its description, and is validated by the model (with its safety
floors) before anything is sent. An empty field leaves the setting as it is
(a push merges into the retained layer, like `legpress-fleet config push`); a
ticked "unset" takes the setting out of the layer, so it returns to the layer
below (the site's for a machine; the kiosks' own for the site), like
`legpress-fleet config unset`.
"""

import json
import math
import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from kiosk.contract.config import KioskConfig

MAX_JSON_CHARS = 20_000  # a whole machine_models table is a few kB


@dataclass(frozen=True)
class FormField:
    name: str  # the dotted path in the config: `cues.sensor_lost_s`
    kind: Literal["bool", "int", "float", "text", "choice", "json"]
    help: str
    default: str  # the model's default, as the field would show it
    choices: tuple[str, ...] = ()
    section: str = ""  # the nested model's path (`cues`), empty at the top
    section_help: str = ""

    @property
    def dom_id(self) -> str:
        return "cfg-" + self.name.replace(".", "-").replace("_", "-")


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict | list):
        return json.dumps(value)
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _kind(annotation: Any) -> tuple[Literal["bool", "int", "float", "text", "choice", "json"], tuple[str, ...]]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return _kind(rest[0]) if len(rest) == 1 else ("json", ())
    if origin is Literal:
        return "choice", tuple(str(a) for a in get_args(annotation))
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    if annotation is str:
        return "text", ()
    return "json", ()


def form_fields(model: type[BaseModel] = KioskConfig, prefix: str = "", section_help: str = "") -> list[FormField]:
    """Every setting of `model`, nested models flattened in order, with their descriptions."""
    fields: list[FormField] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields += form_fields(annotation, f"{prefix}{name}.", info.description or "")
            continue
        kind, choices = _kind(annotation)
        default = info.get_default(call_default_factory=True)
        fields.append(FormField(f"{prefix}{name}", kind, info.description or "", _shown(default), choices,
                                prefix.rstrip("."), section_help))
    return fields


FIELDS = form_fields()


def applied_value(config: dict[str, Any], name: str) -> str:
    """A setting's value in a kiosk's applied config (its `config/state`), as the form shows it."""
    value: Any = config
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return _shown(value)


def _value(field: FormField, text: str) -> Any:
    if field.kind == "bool":
        if text not in ("yes", "no"):
            raise ValueError(f"{field.name}: choose yes or no")
        return text == "yes"
    if field.kind == "choice":
        if text not in field.choices:
            raise ValueError(f"{field.name}: choose one of {', '.join(field.choices)}")
        return text
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{field.name}: {text!r} is not a whole number") from None
    if field.kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{field.name}: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{field.name}: {text!r} is not a number")
        return number
    if field.kind == "json":
        if len(text) > MAX_JSON_CHARS:
            raise ValueError(f"{field.name}: more than {MAX_JSON_CHARS} characters")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{field.name}: not JSON ({exc})") from None
    return text


def unset_from_form(names: list[str], form: dict[str, str]) -> list[str]:
    """The fields ticked "unset" (each a field of the form), in the form's order; ValueError for a name that is
    no field, or a field that is also given a value."""
    known = {f.name for f in FIELDS}
    for name in names:
        if name not in known:
            raise ValueError(f"{name[:64]!r} is no setting of the config")
        if form.get(name, "").strip():
            raise ValueError(f"{name}: give it a value or unset it, not both")
    return [f.name for f in FIELDS if f.name in names]


def patch_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The partial config the filled fields make (ValueError naming the first field that is not a value).

    Whether the values are allowed (ranges, safety floors) is the model's to say, after this.
    """
    patch: dict[str, Any] = {}
    for field in FIELDS:
        text = form.get(field.name, "").strip()
        if not text:
            continue
        node = patch
        *parents, leaf = field.name.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _value(field, text)
    return patch
