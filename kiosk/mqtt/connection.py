"""How `legpress-fleet` and `legpress-sim` reach a broker: the `--site` and broker options, one short-lived link."""

import argparse
import os
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kiosk.mqtt.broker_url import BrokerSettingError, BrokerUrl, resolve_broker
from kiosk.mqtt.link import MqttLink


class CommandFailed(Exception):
    """The request was valid but could not be carried out (e.g. the broker did not answer); exit 1."""


CONNECT_TIMEOUT_S = 10.0
# A broker on the same network accepts well within this; past it, find out why before waiting on.
PROBE_AFTER_S = 0.5
PROBE_TIMEOUT_S = 2.0


def _env_option(parser: argparse.ArgumentParser, flag: str, env: str, what: str) -> None:
    """An option that defaults to an environment variable, and is required only when that is unset."""
    value = os.environ.get(env)
    parser.add_argument(flag, default=value, required=value is None, help=f"{what} (default: ${env})")


def add_site_and_broker(parser: argparse.ArgumentParser) -> None:
    """`--site`, and the broker as `--broker`, `--broker-ca` and `--broker-secrets` (see kiosk/mqtt/broker_url.py)."""
    _env_option(parser, "--site", "LEGPRESS_SITE", "site id")
    add_broker_options(parser)
    parser.set_defaults(resolve_broker=True)


def add_broker_options(parser: argparse.ArgumentParser, default_note: str = "",
                       secrets: str = "a secrets/<user>.toml") -> None:
    """`--broker`, `--broker-ca` and `--broker-secrets`, each defaulting to its LEGPRESS_* variable."""
    parser.add_argument("--broker", default=os.environ.get("LEGPRESS_BROKER"),
                        help=f"mqtt[s]://[user:pass@]host:port (default: $LEGPRESS_BROKER{default_note})")
    parser.add_argument("--broker-ca", default=os.environ.get("LEGPRESS_BROKER_CA"), metavar="FILE",
                        help="CA of the broker's TLS certificate (default: $LEGPRESS_BROKER_CA, else the system's)")
    parser.add_argument("--broker-secrets", default=os.environ.get("LEGPRESS_BROKER_SECRETS"), metavar="FILE",
                        help=f"{secrets} from `legpress-fleet broker render`: login, broker and CA "
                             "(default: $LEGPRESS_BROKER_SECRETS)")


def resolve_broker_args(args: argparse.Namespace) -> None:
    """Replace `args.broker` by the `BrokerUrl` its three options make together; raises ValueError in one line."""
    if not getattr(args, "resolve_broker", False):
        return
    if not args.broker and not args.broker_secrets:
        raise ValueError("no broker: give --broker (or LEGPRESS_BROKER) or --broker-secrets "
                         "(or LEGPRESS_BROKER_SECRETS)")
    try:
        args.broker = resolve_broker(args.broker, args.broker_ca, args.broker_secrets)
    except BrokerSettingError as exc:
        raise ValueError(f"--{exc.setting.replace('_', '-')}: {exc}") from None


@contextmanager
def connected(broker: BrokerUrl | str, timeout: float = CONNECT_TIMEOUT_S) -> Iterator[MqttLink]:
    """A link connected to `broker` for the length of one command, then closed cleanly.

    Raises `CommandFailed` when the broker does not accept the connection within `timeout`.
    """
    # Unique per run: two tools sharing a client id would keep throwing each other off the broker.
    # The tool ends on a refused login in its own one line: the link does not log it as well.
    link = MqttLink(f"legpress-fleet-{os.getpid()}-{uuid.uuid4().hex[:8]}", broker, logs_refusals=False)
    deadline = time.monotonic() + timeout
    link.start()
    try:
        link.wait_answered(min(PROBE_AFTER_S, timeout))
        _refused(link)
        if not link.connected:
            # paho retries on its own; a closed port, an unknown host or a TLS port spoken to in
            # plain MQTT is known at once, so it is said at once rather than after the whole timeout.
            unreachable = why_unreachable(link.broker)
            if unreachable:
                raise CommandFailed(f"could not connect to {link.broker}: {unreachable}")
            link.wait_answered(max(0.0, deadline - time.monotonic()))
            _refused(link)
            if not link.connected:
                # The TCP and TLS probe says what went wrong (a wrong CA, say); the link only knows it failed.
                probed = reach(link.broker)
                why = probed if probed != "no answer" else (link.stats.last_error or probed)
                raise CommandFailed(f"could not connect to {link.broker} within {timeout:g} s ({why})")
        yield link
    finally:
        link.stop()


def _refused(link: MqttLink) -> None:
    # A refused login does not get better by waiting: told at once, in one line.
    if link.refusal is not None and not link.connected:
        raise CommandFailed(f"{link.broker} refused the login of {link.broker.username or 'an anonymous client'}: "
                            f"{link.refusal}; check the user and password (--broker-secrets)")


def why_unreachable(broker: BrokerUrl) -> str | None:
    """Why nothing can be reached at the broker's address, in words; None when it may yet answer."""
    try:
        with socket.create_connection((broker.host, broker.port), timeout=PROBE_TIMEOUT_S) as sock:
            if not broker.tls and _speaks_tls(sock, broker.host):
                return (f"{broker.host} port {broker.port} speaks TLS and this is plain MQTT: "
                        f"use mqtts://{broker.host}:{broker.port} (with --broker-ca for a render's CA)")
            return None
    except ConnectionRefusedError:
        return (f"connection refused: nothing listens on {broker.host} port {broker.port}; "
                "is the broker running, and is that its port?")
    except socket.gaierror:
        return f"unknown host {broker.host!r}: check the name in --broker or LEGPRESS_BROKER"
    except TimeoutError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
def _speaks_tls(sock: socket.socket, host: str) -> bool:
    """Whether the listener answers a TLS hello with a TLS handshake (only whether: no certificate is trusted)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=True):
            return True
    except (ssl.SSLError, OSError):
        return False


def reach(broker: BrokerUrl, timeout: float = 3.0) -> str:
    """Why a broker that never answered could not be reached: TCP, then TLS as the link does it.

    paho retries silently; an operator needs to tell a wrong port from a wrong CA.
    """
    try:
        sock = socket.create_connection((broker.host, broker.port), timeout=timeout)
    except OSError as exc:
        return f"TCP: {exc.strerror or exc}"
    with sock:
        if not broker.tls:
            return "no answer"
        context = ssl.create_default_context(cafile=str(broker.ca) if broker.ca else None)
        try:
            with context.wrap_socket(sock, server_hostname=broker.host):
                return "no answer"
        except ssl.SSLCertVerificationError as exc:
            return f"TLS: {exc.verify_message or exc.reason}"
        except (ssl.SSLError, OSError) as exc:
            return f"TLS: {getattr(exc, 'reason', None) or exc}"


def bounded(unit: str, high: float) -> Callable[[str], float]:
    """An argparse type: a number of `unit` above zero and at most `high`; anything else one clear line."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 < value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of {unit} between 0 and {high:g}")
        return value

    return parse


# `--wait` and `--timeout`.
seconds = bounded("seconds", 3600)
