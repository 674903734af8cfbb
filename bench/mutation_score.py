"""Score a mutmut run (bench/mutation.sh): the share of non-equivalent mutants the tests catch.

Reads mutmut's verdicts (`mutmut results --all true`) and the mutants judged equivalent in
docs/mutation.md (each named in backticks in its table, with the reason). A survivor not judged
equivalent counts against the score, so a new survivor lowers it until a test kills it or
someone writes down why it cannot be killed.

    python bench/mutation_score.py --minutes 31 --write docs/benchmarks.md
"""

import argparse
import platform
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from report import write_section

SECTION = "## Mutation testing"
EQUIVALENT_DOC = Path("docs/mutation.md")
# Verdicts mutmut prints; a timeout or a segfault means the mutant broke the code, so it counts as caught.
CAUGHT = {"killed", "timeout", "segfault", "suspicious"}
MISSED = {"survived", "no tests"}


def verdicts(mutmut: str) -> dict[str, str]:
    out = subprocess.run([mutmut, "results", "--all", "true"], check=True, capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        name, sep, verdict = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            found[name] = verdict
    return found


def judged_equivalent(doc: Path) -> set[str]:
    return set(re.findall(r"`([\w.ǁ]+__mutmut_\d+)`", doc.read_text())) if doc.exists() else set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutmut", default=str(Path(sys.executable).parent / "mutmut"))
    parser.add_argument("--minutes", type=float, default=0.0, help="how long the run took")
    parser.add_argument("--write", type=Path, help="update this file's mutation section")
    args = parser.parse_args()

    found = verdicts(args.mutmut)
    if not found:
        print("no mutmut results: run bash bench/mutation.sh", file=sys.stderr)
        return 1
    counts = Counter(found.values())
    equivalent = {name for name in judged_equivalent(EQUIVALENT_DOC) if found.get(name) in MISSED}
    unjudged = sorted(name for name, verdict in found.items() if verdict in MISSED and name not in equivalent)
    caught = sum(counts[v] for v in CAUGHT)
    scored = len(found) - len(equivalent)
    score = caught / scored if scored else 0.0
    by_file = Counter(name.split(".x")[0].rsplit(".", 1)[-1] for name in found)

    print(f"{len(found)} mutants: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    print(f"{len(equivalent)} survivors judged equivalent in {EQUIVALENT_DOC}")
    print(f"score: {caught}/{scored} non-equivalent mutants caught = {score:.1%}")
    for name in unjudged:
        print(f"  not caught, not judged: {name}")
    if args.write:
        files = ", ".join(f"`{f}.py` {n}" for f, n in sorted(by_file.items()))
        section = (
            f"{SECTION}\n\n"
            f"`bash bench/mutation.sh` (mutmut, tests `tests/core/test_cue_engine*.py`), {platform.machine()}, "
            f"Python {platform.python_version()}, two workers, niced"
            + (f", {args.minutes:.0f} min" if args.minutes else "") + ". "
            f"Mutants of `kiosk/core/cues/`: {files}. How to read it, and each survivor judged equivalent "
            f"with the reason: `docs/mutation.md`.\n\n"
            "| mutants | caught (killed + timed out) | survived | not covered | judged equivalent "
            "| score of non-equivalent |\n|---|---|---|---|---|---|\n"
            f"| {len(found)} | {caught} ({counts['killed']} + {counts['timeout']}) | {counts['survived']} "
            f"| {counts['no tests']} | {len(equivalent)} | {score:.1%} |\n"
        )
        write_section(args.write, SECTION, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
