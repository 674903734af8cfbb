"""One module and one .kv file per screen; the app builds each screen once and reuses it."""
