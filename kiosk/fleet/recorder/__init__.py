"""The operators' record: every kiosk event, status change and telemetry sample of a site, kept in one store.

`intake` turns what the broker delivers into rows (or refuses it), `store` keeps
rows in SQLite or PostgreSQL behind one interface, `service` is the recorder's
persistent MQTT session, `replay` asks kiosks for the eids the record misses,
and `figures` and `html` make the reports from the store.
"""
