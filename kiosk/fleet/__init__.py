"""The operators' tools (`legpress-fleet`): keys, member codes and cards, and the fleet over MQTT."""


class CommandFailed(Exception):
    """The request was valid but could not be carried out (e.g. the broker did not answer); exit 1."""
