"""docs/benchmarks.md is written by several scripts: each replaces only its own `## ` section."""

import re
from pathlib import Path

INTRO = ("# Benchmarks\n\nMeasured by the scripts in `bench/`; each script rewrites only its own "
         "section, so rerun it after changing the code it measures.\n")


def write_section(path: Path, heading: str, section: str) -> None:
    """Put `section` (which starts with `heading`) in place of that section of `path`, or at its end."""
    text = path.read_text() if path.exists() else INTRO
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section.rstrip("\n") + "\n\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")
