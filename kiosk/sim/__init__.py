"""The leg press's sensor node, simulated: scripted members, recorded-like traces, and an MQTT publisher."""
