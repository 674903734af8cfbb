"""The member at the machine: the session and its sets, the guided setup that
learns a first-timer's range, the pain protocol, and the sounds the cues make.
"""
