"""`legpress-fleet members`: issue member codes and cards, revoke them, export or erase a member's data.

Codes expire by default (`DEFAULT_DAYS` for members, `DEFAULT_STAFF_HOURS`
for staff): a code is a bearer credential, and a screenshot of one works as
well as the card. `revoke` withdraws every code of a member issued before a
time, through the site's retained revocation list (docs/security.md).
"""

import argparse
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from kiosk.codes.member_codes import load_private_key, sign_code
from kiosk.contract.base import PayloadError, decode, describe_validation_error, encode
from kiosk.contract.events import Role
from kiosk.contract.ids import check_id
from kiosk.contract.member_code import MemberClaims
from kiosk.contract.revocations import MAX_REVOCATIONS, Revocation, RevocationList
from kiosk.contract.topics import site_revocations
from kiosk.fleet import CommandFailed
from kiosk.fleet.cards import write_cards
from kiosk.fleet.member_data import erase_everywhere, erased_lines, export_member
from kiosk.fleet.profile_erasure import RETAINED_WAIT_S, erase_member
from kiosk.mqtt.broker_url import BrokerUrl
from kiosk.mqtt.connection import add_site_and_broker, connected
from kiosk.mqtt.link import MqttLink
from kiosk.words import language

if TYPE_CHECKING:
    from kiosk.fleet.parser import FleetParser

DAY_S = 86400
HOUR_S = 3600
DEFAULT_DAYS = 365
DEFAULT_STAFF_HOURS = 12


def issue_code(key_path: str | Path, member: str, name: str, role: Role = "member",
               expires_at: float | None = None, now: float | None = None) -> str:
    """A signed code for `member`; the key id is the key file's name (`<kid>.key`)."""
    key_path = Path(key_path)
    kid = check_id(key_path.stem, f"key id (from the file name {key_path.name})")
    check_id(member, "member")
    if not name.strip() or not name.isprintable():
        raise ValueError(f"name {name!r} must be printable text, not empty")
    key = load_private_key(key_path)
    issued = float(int(time.time() if now is None else now))
    try:
        claims = MemberClaims(sub=member, name=name.strip(), role=role, iat=issued, exp=expires_at, kid=kid)
    except ValidationError as exc:
        raise ValueError(describe_validation_error(exc)) from None
    return sign_code(claims, key)


def parse_expiry(text: str) -> float:
    """`--expires`: an ISO date (valid through that day) or date-time; local time unless it has an offset."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1), datetime.min.time()).timestamp()
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(
            f"--expires {text!r} is not an ISO date or date-time, e.g. 2026-12-31 or 2026-12-31T18:00"
        ) from None


def revoke_member(broker: BrokerUrl | str, site: str, member: str, issued_before: float, note: str = "",
                  timeout: float = 10.0) -> RevocationList:
    """Add `member` to the site's retained revocation list (keeping every other entry); returns the new list.

    The list is read back from the broker first, so two operators revoking
    different members one after the other both count. A retained list that is
    not valid is not overwritten: someone must look at it.
    """
    check_id(member, "member")
    topic = site_revocations(site)
    with connected(broker, timeout) as link:
        current = _retained(link, topic)
        if current is None:
            current = RevocationList(updated=0)
        entries = [e for e in current.revoked if e.member != member]
        before = max([issued_before] + [e.issued_before for e in current.revoked if e.member == member])
        try:
            entries.append(Revocation(member=member, issued_before=before, note=note))
            revocations = RevocationList(updated=time.time(), revoked=entries)
        except ValidationError as exc:
            raise CommandFailed(f"revocation not sent: {describe_validation_error(exc)}") from None
        if len(entries) > MAX_REVOCATIONS:
            raise CommandFailed(f"the list already holds {MAX_REVOCATIONS} members: remove old entries first")
        if not link.publish_and_wait(topic, encode(revocations), qos=1, retain=True, timeout=timeout):
            raise CommandFailed(f"{link.broker} did not confirm the revocation list on {topic} within {timeout:g} s")
    return revocations


def _retained(link: MqttLink, topic: str) -> RevocationList | None:
    got: list[bytes] = []
    arrived = threading.Event()

    def keep(_topic: str, payload: bytes, _props: object) -> None:
        got.append(payload)
        arrived.set()

    link.subscribe(topic, keep, qos=1)
    arrived.wait(RETAINED_WAIT_S)
    if not got or not got[-1]:
        return None
    try:
        return decode(RevocationList, got[-1])
    except PayloadError as exc:
        raise CommandFailed(f"the retained list on {topic} is not valid ({exc}); fix or clear it first") from None


def _positive_days(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days of 1 or more")
    return int(text)


def _positive_hours(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours of 1 or more")
    return int(text)


def _card_language(text: str) -> str:
    """A BCP 47 tag with a catalogue (`de`, `de-AT`): a card is never printed in another language than asked."""
    if language.gettext_id(text) is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no catalogue here; one of {', '.join(language.available())}")
    return text


def register(commands: "argparse._SubParsersAction[FleetParser]") -> None:
    members = commands.add_parser("members", help="member codes, cards and profiles")
    actions = members.add_subparsers(dest="action", required=True, metavar="ACTION")

    issue = actions.add_parser("issue", help="sign a member code, print it and write printable cards")
    issue.add_argument("--key", required=True, help="the signing key, <kid>.key (from `keys new`)")
    issue.add_argument("--member", required=True, help="member id")
    issue.add_argument("--name", required=True,
                       help="first name shown on the card and the kiosk (40 characters at most)")
    issue.add_argument("--role", choices=("member", "staff"), default="member")
    lifetime = issue.add_mutually_exclusive_group()
    lifetime.add_argument("--days", type=_positive_days,
                          help=f"valid for this many days (default: {DEFAULT_DAYS} for members, "
                          f"{DEFAULT_STAFF_HOURS} hours for staff)")
    lifetime.add_argument("--hours", type=_positive_hours, help="valid for this many hours")
    lifetime.add_argument("--expires", help="valid until this ISO date (through that day) or date-time")
    issue.add_argument("--out", default=".", help="folder for <member>.png and <member>.svg (default: here)")
    issue.add_argument("--language", type=_card_language, default=None, metavar="TAG",
                       help="the member's language (BCP 47) for the words printed on the card: "
                       f"{', '.join(language.available())} (default: English)")
    issue.set_defaults(run=_issue)

    revoke = actions.add_parser("revoke", help="withdraw every code of a member issued before now (or --before)")
    revoke.add_argument("--member", required=True, help="member id")
    revoke.add_argument("--before", help="revoke codes issued before this ISO date-time (default: now)")
    revoke.add_argument("--note", default="", help="why, for operators (never shown to members)")
    add_site_and_broker(revoke)
    revoke.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker (default: 10)")
    revoke.set_defaults(run=_revoke)

    erase = actions.add_parser("erase", help="delete a member's saved profile from the site broker "
                               "(with --store, from the recorder's store too)")
    erase.add_argument("--member", required=True, type=_member, help="member id")
    add_site_and_broker(erase)
    erase.add_argument("--store", metavar="STORE",
                       help="also take the member out of the recorder's store (sqlite:PATH or postgresql://...): "
                       "their profile revisions deleted, their id replaced by a pseudonym nothing leads back from")
    erase.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker (default: 10)")
    erase.set_defaults(run=_erase)

    export = actions.add_parser("export", help="write everything the site holds about a member as one JSON file")
    export.add_argument("--member", required=True, type=_member, help="member id")
    add_site_and_broker(export)
    export.add_argument("--store", required=True, metavar="STORE",
                        help="the recorder's store: sqlite:PATH or postgresql://user:pass@host:port/db")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="the JSON file to write (mode 0600)")
    export.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker (default: 10)")
    export.set_defaults(run=_export)


def _issue(args: argparse.Namespace) -> int:
    now = time.time()
    if args.days is not None:
        expires_at = float(int(now) + args.days * DAY_S)
    elif args.hours is not None:
        expires_at = float(int(now) + args.hours * HOUR_S)
    elif args.expires is not None:
        expires_at = parse_expiry(args.expires)
        if expires_at <= now:
            raise ValueError(f"--expires {args.expires} is already past")
    elif args.role == "staff":
        expires_at = float(int(now) + DEFAULT_STAFF_HOURS * HOUR_S)
    else:
        expires_at = float(int(now) + DEFAULT_DAYS * DAY_S)
    code = issue_code(args.key, args.member, args.name, args.role, expires_at, now)
    png, svg = write_cards(code, args.member, args.name.strip(), args.out, args.language)
    print(code)
    print(f"cards: {png} {svg}", file=sys.stderr)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    before = time.time() if args.before is None else _parse_before(args.before)
    revocations = revoke_member(args.broker, args.site, args.member, before, args.note, args.timeout)
    when = datetime.fromtimestamp(revocations.cutoffs()[args.member]).isoformat(timespec="seconds")
    print(f"revoked {args.member}'s codes issued before {when}; {len(revocations.revoked)} member(s) on the list")
    return 0


def _parse_before(text: str) -> float:
    """`--before`: an ISO date (its midnight) or date-time; local time unless it has an offset."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise ValueError(f"--before {text!r} is not an ISO date or date-time, e.g. 2026-12-01T09:30") from None


def _member(text: str) -> str:
    try:
        return check_id(text, "member")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _erase(args: argparse.Namespace) -> int:
    if args.store is None:
        topic = erase_member(args.broker, args.site, args.member, args.timeout)
        print(f"erased {args.member}'s profile ({topic})")
        return 0
    erasure = erase_everywhere(args.broker, args.site, args.member, args.store, args.timeout)
    print("\n".join(erased_lines(args.member, erasure, args.store)))
    return 0


def _export(args: argparse.Namespace) -> int:
    export = export_member(args.broker, args.site, args.member, args.store, args.out, args.timeout)
    events = sum(len(s.events) for s in export.sessions) + len(export.other_events)
    print(f"wrote {args.out}: {args.member}'s profile ({'retained' if export.profile else 'none on the broker'}), "
          f"{len(export.profile_revisions)} profile revision(s), {len(export.sessions)} session(s), {events} event(s)")
    return 0
