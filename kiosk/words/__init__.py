"""What a person reads or hears: every sentence on the screen, in speech and in
the operators' terminal, kept in one place so the window, the headless kiosk and
`legpress-fleet watch` say the same thing.
"""
