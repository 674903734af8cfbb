"""The parser every `legpress-fleet` subcommand registers on, in a module of its own so the
subcommands need not import the command line that imports them."""

import argparse


class FleetParser(argparse.ArgumentParser):
    """Reports usage errors in one line instead of argparse's usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
