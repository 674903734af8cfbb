"""The leg press itself: machine models and their geometry, the depth limits
every setting is held to (target short of max), and the sled's calibration.
"""
