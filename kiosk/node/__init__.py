"""`legpress-node`: the reference sensor node, from a draw-wire encoder or a time-of-flight sensor and two pad
switches to `R/sensor/*`. It speaks the contract through `kiosk.mqtt` and never imports the kiosk's core."""
