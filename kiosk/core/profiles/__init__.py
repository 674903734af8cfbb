"""Members' saved settings: the local cache (served offline, saves held until the
broker takes them) and the unit that syncs it with the site's retained profiles.
"""
