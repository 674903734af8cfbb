"""What every program of the project needs of the machine it runs on: files only their user may read, and
settings read from a TOML file and the environment. The kiosk, the sensor node and the operators' tools
share it, so a secret is written one way and a bad setting is told in one line the same way everywhere."""
