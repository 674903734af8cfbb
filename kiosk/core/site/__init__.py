"""The kiosk as the site sees it: presence (status, info, telemetry, the Will),
the event journal, operators' commands and pushed config, Home Assistant
discovery and the service manager's watchdog. Each unit owns its topics.
"""
