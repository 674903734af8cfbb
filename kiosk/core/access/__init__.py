"""Who may use the machine: the camera and the scanner that read codes, the
repeat filter that takes one card held up once, and the site's revocations.
Checking a code's signature is `kiosk.codes`'; deciding what a read opens is the
front desk's.
"""
