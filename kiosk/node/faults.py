"""What goes wrong with the node's parts, said in one line."""


class HardwareFault(Exception):
    """The sled sensor cannot give a true reading now; the message says why, for `status` and the log."""
