"""Operator commands: one request in, exactly one reply out, whatever the request looks like.

Like zigbee2mqtt's request/response: the reply echoes `transaction` and is
always `{status, data, error}`. It goes to `R/kiosk/res/{name}`, or to the
MQTT v5 Response Topic with the request's Correlation Data when the requester
set them and that topic is under this kiosk's own `R/kiosk/res/` (the only
replies its ACL lets it publish; anything else is answered on the default
topic, still with the Correlation Data and a `response_topic_refused` user
property, and counted in `redirected`). An unknown command or bad arguments get
an `error` reply; nothing a request carries can raise into the kiosk.
"""

import logging
from collections.abc import Callable

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.contract.base import PayloadError, ReportModel, decode, parse_json_object
from kiosk.contract.commands import COMMANDS, Command, CommandReply
from kiosk.contract.replies import REPLIES
from kiosk.contract.topics import MachineTopics
from kiosk.mqtt.link import MqttLink

log = logging.getLogger(__name__)

# A handler answers with its command's reply model (kiosk.contract.replies.REPLIES).
CommandHandler = Callable[[Command], ReportModel]


class CommandDesk:
    """Routes `cmd` messages to the handlers units registered and sends their replies."""

    def __init__(self, link: MqttLink, topics: MachineTopics) -> None:
        self._link = link
        self._topics = topics
        self._handlers: dict[str, CommandHandler] = {}
        self.handled = 0
        self.refused = 0
        self.redirected = 0
        # The Response Topic of the request being handled (None between requests, or when it set none): a
        # handler that budgets per requester (`replay`) reads it while it runs, on the same thread.
        self.response_topic: str | None = None

    def register(self, name: str, handler: CommandHandler) -> None:
        if name not in COMMANDS:
            raise ValueError(f"{name} is not a contract command")
        if name in self._handlers:
            raise ValueError(f"command {name} already has a handler")
        self._handlers[name] = handler

    @property
    def retained_ignored(self) -> int:
        """Retained command messages ignored (OperatorDesk subscribes to commands live only)."""
        return self._link.stats.retained_ignored

    @property
    def names(self) -> list[str]:
        return sorted(self._handlers)

    def handle(self, topic: str, payload: bytes, properties: Properties | None) -> None:
        # The last topic level is the name even when it breaks the naming rule
        # (`End-Session`): such a request still gets its refusal.
        name = topic.rsplit("/", 1)[-1]
        transaction = _transaction_of(payload)
        topic_asked = getattr(properties, "ResponseTopic", None) if properties is not None else None
        self.response_topic = topic_asked if isinstance(topic_asked, str) else None
        try:
            reply = self._run(name, payload)
        except Exception as exc:
            log.exception("command %s failed", name)
            reply = CommandReply(transaction=transaction, status="error", error=f"{name} failed: {exc}")
        finally:
            self.response_topic = None
        if reply.status == "error":
            self.refused += 1
        else:
            self.handled += 1
        self._reply(name, reply, properties)

    def _run(self, name: str, payload: bytes) -> CommandReply:
        transaction = _transaction_of(payload)
        model = COMMANDS.get(name)
        handler = self._handlers.get(name)
        if model is None or handler is None:
            known = ", ".join(sorted(self._handlers))
            return CommandReply(transaction=transaction, status="error",
                                error=f"unknown command {name[:40]!r}; this kiosk knows: {known}")
        try:
            command = decode(model, payload)
        except PayloadError as exc:
            return CommandReply(transaction=transaction, status="error", error=f"bad {name} request: {exc}")
        data = handler(command)
        if not isinstance(data, REPLIES[name]):
            raise TypeError(f"{name} answered with {type(data).__name__}, not {REPLIES[name].__name__}")
        return CommandReply(transaction=command.transaction, status="ok", data=data.model_dump(mode="json"))

    def _reply(self, name: str, reply: CommandReply, request: Properties | None) -> None:
        response_topic = getattr(request, "ResponseTopic", None) if request is not None else None
        correlation = getattr(request, "CorrelationData", None) if request is not None else None
        props = Properties(PacketTypes.PUBLISH)
        if response_topic and not _fit_for_replies(response_topic, f"{self._topics.root}/kiosk/res/"):
            self.redirected += 1
            log.warning("ignoring response topic %r: replies may not go there", response_topic[:100])
            # Said beside the payload, not in `error`: the command itself did what it says, and a script
            # that reads a non-null `error` as a failure must not be told otherwise. The Correlation Data
            # still comes back, so a requester listening on the res topic can match its answer.
            props.UserProperty = ("response_topic_refused", "replies go only under this kiosk's own res/ topics")
            response_topic = None
        if correlation is not None:
            props.CorrelationData = correlation
        topic = response_topic or f"{self._topics.root}/kiosk/res/{name}"
        try:
            self._link.publish(topic, reply, qos=1, properties=props)
        except ValueError as exc:
            log.error("reply to %s could not be sent: %s", name[:40], exc)


def _fit_for_replies(topic: str, own_res: str) -> bool:
    """A requester's Response Topic, only if it lies under this kiosk's own `res/` and has no wildcards.

    Without this check a request could make the kiosk publish on its own
    status, on a command topic (even its own), or on another kiosk's or site's tree.
    """
    if "+" in topic or "#" in topic or "\0" in topic or len(topic) > 512:
        return False
    return topic.startswith(own_res) and len(topic) > len(own_res)


def _transaction_of(payload: bytes) -> str:
    """The request's transaction if one can be read at all, so even a refusal can be matched."""
    try:
        value = parse_json_object(payload).get("transaction", "")
    except PayloadError:
        return ""
    return value[:64] if isinstance(value, str) else ""
