"""Broker configuration for a gym: the site broker and every kiosk's local broker, rendered from one inventory."""
