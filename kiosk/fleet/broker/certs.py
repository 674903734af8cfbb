"""A development CA and the site broker's certificate, made with `cryptography`.

For a gym without its own PKI, and for tests and the demo. Production
certificates are the operator's own: replace `certs/site.crt` and
`certs/site.key` (and give kiosks that CA) and render keeps them as long as
they still name the site broker's host.

Keys are ECDSA P-256: every TLS stack a kiosk, a sensor node (mbedTLS) or a
clustered broker uses speaks it, and it is cheap on a Pi.
"""

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
# 825 days: the longest validity clients such as Apple's accept for a server certificate.
SERVER_DAYS = 825
# Renewed by a render when less than this is left, so a yearly re-render never lets it lapse.
RENEW_BEFORE_DAYS = 90

# Names every dev certificate also carries, so tools on the broker's own host can use mqtts:// to it.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class KeyPair:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def new_ca(site: str) -> KeyPair:
    """A self-signed CA that may sign server certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "legpress"),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"legpress dev CA for site {site}")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def new_server_cert(ca: KeyPair, host: str) -> KeyPair:
    """A TLS server certificate for `host` (and the loopback names) signed by `ca`."""
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the CA key in certs/ca.key is not an EC key made by render")
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san([host, *LOOPBACK_NAMES]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def server_cert_fits(server: KeyPair, ca: KeyPair, host: str) -> bool:
    """Whether a kept site certificate still names `host`, was signed by `ca` and has time left."""
    try:
        cert = server.cert
        cert.verify_directly_issued_by(ca.cert)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    try:
        wanted: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        wanted = x509.DNSName(host)
    left = cert.not_valid_after_utc - _now()
    return wanted in names and left > datetime.timedelta(days=RENEW_BEFORE_DAYS)


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM bundle; raises ValueError when there are none."""
    certs = x509.load_pem_x509_certificates(data)
    if not certs:
        raise ValueError("no certificate in it")
    return certs
