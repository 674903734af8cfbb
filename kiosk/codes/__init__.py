"""Member codes: the signed text a member's or staff card carries.

Signing (operators' tools) and checking (the kiosk) share one module, so the two
can never disagree on the format; both import it from here instead of one
reaching into the other.
"""
