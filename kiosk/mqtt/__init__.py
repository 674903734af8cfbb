"""The MQTT layer shared by the kiosk, the operators' tools and the simulator.

It owns how a program reaches a broker: broker URLs and the secrets beside them
(`broker_url`), one paho client with reconnects and acknowledged publishes
(`link`), and the command-line options and short-lived links of the tools
(`connection`). It knows no topic or payload of the product: those are the
contract's.
"""
