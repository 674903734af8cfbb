"""The console's commands to kiosks: the contract's commands, each with a fresh transaction, and its reply.

Like `legpress-fleet command`, a request carries a Response Topic on the
machine's own `R/kiosk/res/{name}` (the only place a site broker's ACL lets a
kiosk answer), and the transaction tells this console's reply from any other
operator's. Replies are awaited without blocking the web server's loop.
"""

import asyncio
import threading
import uuid
from concurrent.futures import Future
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import ValidationError

from kiosk.contract.base import PayloadError, decode, describe_validation_error
from kiosk.contract.commands import COMMANDS, CommandReply
from kiosk.contract.ids import check_id
from kiosk.contract.topics import MachineTopics
from kiosk.mqtt.link import MqttLink

REPLY_TIMEOUT_S = 5.0


class CommandError(Exception):
    """The command was not sent (bad arguments) or not answered; the message is for the staff's screen."""


class Desk:
    def __init__(self, site: str, link: MqttLink) -> None:
        self.site = site
        self._link = link
        self._pending: dict[str, Future[CommandReply]] = {}
        self._lock = threading.Lock()

    def listen(self) -> None:
        self._link.subscribe(f"gym/v1/{self.site}/+/kiosk/res/+", self._on_reply, qos=1)

    def build(self, name: str, fields: dict[str, Any]) -> Any:
        """The request as its contract model, checked here first, so nothing bad is sent."""
        if name not in COMMANDS:
            raise CommandError(f"there is no command {name!r}")
        try:
            return COMMANDS[name].model_validate({"transaction": uuid.uuid4().hex, **fields}, strict=False)
        except ValidationError as exc:
            raise CommandError(describe_validation_error(exc)) from None

    async def send(self, machine: str, name: str, fields: dict[str, Any],
                   timeout: float = REPLY_TIMEOUT_S) -> CommandReply:
        check_id(machine, "machine")
        request = self.build(name, fields)
        future: Future[CommandReply] = Future()
        with self._lock:
            self._pending[request.transaction] = future
        try:
            topics = MachineTopics(self.site, machine)
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = topics.res(name)
            props.CorrelationData = request.transaction.encode()
            self._link.publish(topics.cmd(name), request, qos=1, properties=props)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
            except TimeoutError:
                raise CommandError(f"{machine} did not answer {name} within {timeout:g} s") from None
        finally:
            with self._lock:
                self._pending.pop(request.transaction, None)

    def _on_reply(self, _topic: str, payload: bytes, _properties: object) -> None:
        try:
            reply = decode(CommandReply, payload)
        except PayloadError:
            return  # not an answer to anything of ours that we could read
        with self._lock:
            future = self._pending.pop(reply.transaction, None)
        if future is not None and not future.done():
            future.set_result(reply)
