"""Servers for development and tests: a loopback mosquitto, a throwaway
PostgreSQL and the demo that starts a kiosk beside them. Nothing here runs in a
gym.
"""
