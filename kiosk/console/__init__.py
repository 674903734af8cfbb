"""`legpress-fleet console`: the front-desk web console, for the people who run the gym.

A site client like the other fleet tools (it reads the fleet through
`kiosk.fleet.view`, sends the same contract commands), with its own staff
accounts, sessions and audit log. It never imports the kiosk's core.
"""
