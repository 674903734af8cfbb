"""The software's version, which every kiosk reports in `info` and Home Assistant shows.

It lives in the contract so that the contract, the project's base, can state it
without importing anything above itself.
"""

VERSION = "0.1.0"
