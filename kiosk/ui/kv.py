"""Loads a screen's or widget's .kv file, which lives beside its module."""

from pathlib import Path

from kivy.lang import Builder


def load_beside(module_file: str) -> None:
    """Load `<module>.kv` once, however often the module's code asks."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)
