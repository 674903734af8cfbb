"""The operators' tools (`legpress-fleet`): keys, member codes and cards, and the fleet over MQTT."""


from kiosk.mqtt.connection import CommandFailed

__all__ = ["CommandFailed"]
