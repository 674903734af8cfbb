"""The MQTT contract as code: topics, payload models and their JSON codec.

Firmware, kiosks, the operators' tools and the tests all import from here, so
the wire format has exactly one definition (see docs/mqtt.md).
"""

CONTRACT_VERSION = "gym/v1"
MAX_PAYLOAD_BYTES = 64 * 1024
