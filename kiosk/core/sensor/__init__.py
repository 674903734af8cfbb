"""The machine's sensor node as the kiosk hears it: the ingest unit that owns the
sensor topics, the stream's clock (which timestamps to believe) and its health
(silent, stale, too slow, refused payloads).
"""
