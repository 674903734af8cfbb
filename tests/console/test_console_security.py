"""The console's doors: sessions, CSRF, roles, the brake on guessed passwords, cookies, TLS, the command line."""

import re
import subprocess

import requests

from kiosk.console.accounts import Accounts
from kiosk.dev.broker import Collector, free_port
from kiosk.fleet.broker import certs
from tests.support.console_process import FLEET, PASSWORD, ConsoleProcess, start_console
from tests.support.helpers import eventually

PAGES = ["/", "/machines/lp1", "/audit", "/members", "/reports", "/reports/daily.csv", "/reports/pain.csv"]
DATA = ["/live"]
ACTIONS = ["/logout", "/alerts/a1/seen", "/alerts/a1/answer", "/machines/lp1/out_of_order",
           "/machines/lp1/in_service", "/machines/lp1/restart", "/machines/lp1/diagnostics", "/cards",
           "/members/m_sam/revoke", "/members/m_sam/erase"]


def signed_in(console: ConsoleProcess, user: str, password: str = PASSWORD,
              verify: str | bool = True) -> tuple[requests.Session, str]:
    """A session signed in as `user`, and its CSRF token (read off the floor page as a browser would)."""
    s = requests.Session()
    s.verify = verify
    s.trust_env = False  # else $REQUESTS_CA_BUNDLE would win over `verify`
    form = s.get(f"{console.url}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    answer = s.post(f"{console.url}/login", data={"user": user, "password": password, "csrf": token[1]},
                    allow_redirects=False)
    assert answer.status_code == 303, answer.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', s.get(f"{console.url}/").text)
    assert csrf is not None
    return s, csrf[1]


def attempt(console: ConsoleProcess, user: str, password: str) -> requests.Response:
    s = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', s.get(f"{console.url}/login").text)
    assert token is not None
    return s.post(f"{console.url}/login", data={"user": user, "password": password, "csrf": token[1]},
                  allow_redirects=False)


def test_without_a_session_pages_send_to_sign_in_and_data_and_actions_are_refused(console):
    for path in PAGES:
        answer = requests.get(f"{console.url}{path}", allow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
    for path in DATA:
        assert requests.get(f"{console.url}{path}").status_code == 401, path
    for path in ACTIONS:
        assert requests.post(f"{console.url}{path}", data={"reason": "x"}).status_code == 401, path
    # A forged or foreign cookie is no session either.
    forged = {"legpress_console": "eyJ1Ijoib3BzMSIsImMiOiJ4In0.forged.signature"}
    assert requests.get(f"{console.url}/live", cookies=forged).status_code == 401


def test_a_state_changing_request_without_the_csrf_token_is_refused_and_nothing_is_sent(broker, console, lp1):
    commands = Collector(broker, "gym/v1/testgym/+/kiosk/cmd/#")
    try:
        s, csrf = signed_in(console, "ops1")
        eventually(lambda: s.get(f"{console.url}/machines/lp1").status_code == 200, what="lp1 on the floor")
        for token in (None, "wrong-token"):
            data = {"reason": "forged"} | ({"csrf": token} if token else {})
            answer = s.post(f"{console.url}/machines/lp1/out_of_order", data=data)
            assert answer.status_code == 403
        # Nothing went out: the one message the broker routes is the genuine request after them.
        s.post(f"{console.url}/machines/lp1/in_service", data={"csrf": csrf})
        first = commands.wait_for(lambda m: True)
        assert first.topic.endswith("/cmd/in_service")
        assert not any(b"forged" in m.payload for m in commands.messages)
    finally:
        commands.close()


def test_a_desk_account_cannot_reach_operator_actions(console):
    s, csrf = signed_in(console, "desk1")
    assert s.get(f"{console.url}/machines/lp1").status_code == 403
    assert s.get(f"{console.url}/audit").status_code == 403
    for path in ("/reports", "/reports/daily.csv", "/members"):
        assert s.get(f"{console.url}{path}").status_code == 403, path
    for path in ("/machines/lp1/out_of_order", "/machines/lp1/restart"):
        answer = s.post(f"{console.url}{path}", data={"csrf": csrf, "reason": "x"})
        assert answer.status_code == 403 and "operator" in answer.json()["error"]
    floor = s.get(f"{console.url}/").text
    assert "Audit log" not in floor and "/machines/" not in floor
    # The refusals are in the audit log, with who asked.
    ops, _ = signed_in(console, "ops1")
    audit = ops.get(f"{console.url}/audit").text
    assert re.search(r"desk1</td><td>refused</td><td>/machines/lp1/restart", audit)


def test_twenty_wrong_passwords_are_refused_and_then_even_the_right_one_waits(console):
    codes = [attempt(console, "desk1", f"guess-number-{i}").status_code for i in range(20)]
    assert codes[:5] == [401] * 5
    assert set(codes[6:]) == {429}, codes
    refused = attempt(console, "desk1", PASSWORD)
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.text
    # Another address's staff are not locked out by a guesser's name... but that name is.
    assert attempt(console, "trainer1", PASSWORD).status_code == 429  # same address, which is braked too


def test_an_unknown_user_costs_as_much_as_a_wrong_password_and_says_the_same(console):
    unknown, wrong = attempt(console, "nobody", "whatever-it-is"), attempt(console, "ops1", "whatever-it-is")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong user or password." in unknown.text and "Wrong user or password." in wrong.text


def test_session_cookies_are_http_only_and_same_site_strict(console):
    answer = attempt(console, "ops1", PASSWORD)
    cookie = next(c for c in answer.raw.headers.getlist("Set-Cookie") if c.startswith("legpress_console="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie


def test_under_tls_the_session_cookie_is_secure(broker, tmp_path):
    ca = certs.new_ca("testgym")
    server = certs.new_server_cert(ca, "localhost")
    (tmp_path / "site.crt").write_bytes(server.cert_pem)
    (tmp_path / "site.key").write_bytes(server.key_pem)
    (tmp_path / "ca.crt").write_bytes(ca.cert_pem)
    console = start_console(broker.url, tmp_path / "c", "testgym", "--tls-cert", str(tmp_path / "site.crt"),
                            "--tls-key", str(tmp_path / "site.key"), scheme="https", host="localhost",
                            verify=str(tmp_path / "ca.crt"))
    try:
        s, _ = signed_in(console, "ops1", verify=str(tmp_path / "ca.crt"))
        cookie = next(c for c in s.cookies if c.name == "legpress_console")
        assert cookie.secure and cookie.has_nonstandard_attr("HttpOnly")
    finally:
        console.stop()


def test_plain_http_off_loopback_and_bad_arguments_are_one_line_and_exit_2(broker, tmp_path):
    runs = [
        ["--listen", f"0.0.0.0:{free_port()}"],
        ["--listen", "nonsense"],
        ["--tls-cert", str(tmp_path / "missing.crt"), "--tls-key", str(tmp_path / "missing.key")],
        ["--tls-cert", str(tmp_path / "only.crt")],
    ]
    for extra in runs:
        done = subprocess.run([str(FLEET), "console", "serve", "--site", "testgym", "--broker", broker.url,
                               "--db", str(tmp_path / "c.sqlite3"), *extra], capture_output=True, text=True,
                              timeout=30)
        assert done.returncode == 2, (extra, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "loopback" in subprocess.run(
        [str(FLEET), "console", "serve", "--site", "testgym", "--broker", broker.url, "--db",
         str(tmp_path / "c.sqlite3"), "--listen", "0.0.0.0:8080"], capture_output=True, text=True).stderr


def test_user_add_reads_the_password_from_stdin_and_stores_only_a_hash(tmp_path):
    db = tmp_path / "console.sqlite3"

    def fleet(*argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(FLEET), "console", "user", *argv, "--db", str(db)], input=stdin,
                              capture_output=True, text=True, timeout=30)

    added = fleet("add", "aoife", "--role", "trainer", stdin="a long enough secret\n")
    assert added.returncode == 0 and added.stdout.strip() == "added aoife (trainer)"
    assert fleet("add", "aoife", "--role", "desk", stdin="another long secret\n").returncode == 2
    assert fleet("add", "short", "--role", "desk", stdin="tiny\n").returncode == 2
    assert fleet("add", "Bad Name", "--role", "desk", stdin="a long enough secret\n").returncode == 2
    assert fleet("add", "bob", "--role", "boss", stdin="a long enough secret\n").returncode == 2
    assert fleet("list").stdout == "aoife\ttrainer\n"
    raw = db.read_bytes()
    assert b"a long enough secret" not in raw and b"$argon2id$" in raw
    assert oct(db.stat().st_mode & 0o777) == "0o600"
    accounts = Accounts(db)
    try:
        assert accounts.verify("aoife", "a long enough secret") is not None
        assert accounts.verify("aoife", "a wrong secret!!") is None
    finally:
        accounts.close()
    assert fleet("remove", "aoife").returncode == 0
    assert fleet("remove", "aoife").returncode == 2
    assert fleet("list").stdout == ""
