"""The HTTPS listener's certificate: a configured one, or one camnet makes for itself.

On first start without a configured certificate camnet creates a self-signed one for the
host's names and addresses (plus ``localhost`` and the loopback addresses, so a client on
the same machine can verify it) and keeps it in the data directory, the key readable by
the owner only. Later starts reuse it, so a client that pinned it (``curl --cacert``)
keeps working. ``describe`` is what the c2 variable ``httpsCertificate`` shows.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

GENERATED_CERT: Final = "https-cert.pem"
GENERATED_KEY: Final = "https-key.pem"
VALID_DAYS: Final = 3650


class CertificateError(Exception):
    """A certificate or key that cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    cert: Path
    key: Path
    generated: bool


def _subject_names(names: Iterable[str]) -> list[x509.GeneralName]:
    result: list[x509.GeneralName] = []
    seen: set[str] = set()
    for name in names:
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            result.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            result.append(x509.DNSName(name))
    return result


def generate(cert_path: Path, key_path: Path, common_name: str, names: Iterable[str]) -> None:
    """Write a new self-signed certificate (ECDSA P-256) and its key (mode 0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "camnet")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(_subject_names(names)), critical=False)
        # A CA certificate for itself: clients given it as --cacert accept it as an anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    os.chmod(key_path, 0o600)
    temporary = cert_path.with_suffix(".tmp")
    temporary.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    temporary.replace(cert_path)


def ensure(
    data_dir: Path,
    configured_cert: Path | None,
    configured_key: Path | None,
    common_name: str,
    names: Iterable[str],
) -> CertificateFiles:
    """The files to serve HTTPS with: the configured pair, else the generated one."""
    if configured_cert is not None and configured_key is not None:
        for path in (configured_cert, configured_key):
            if not path.is_file():
                raise CertificateError(f"{path} does not exist or is not a file")
        return CertificateFiles(configured_cert, configured_key, generated=False)
    cert_path, key_path = data_dir / GENERATED_CERT, data_dir / GENERATED_KEY
    if not (cert_path.is_file() and key_path.is_file()):
        generate(cert_path, key_path, common_name, names)
    return CertificateFiles(cert_path, key_path, generated=True)


def describe(files: CertificateFiles) -> dict[str, Any]:
    """``httpsCertificate``: who the certificate names, who signed it, until when."""
    try:
        pem = files.cert.read_bytes()
        certificate = x509.load_pem_x509_certificate(pem)
    except (OSError, ValueError) as exc:
        raise CertificateError(f"{files.cert} is not a PEM certificate: {exc}") from None
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = [str(value) for value in alternative.value.get_values_for_type(x509.DNSName)]
        names += [str(value) for value in alternative.value.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = []
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "selfSigned": certificate.issuer == certificate.subject,
        "generated": files.generated,
        "names": names,
        "notBefore": certificate.not_valid_before_utc.isoformat(),
        "notAfter": certificate.not_valid_after_utc.isoformat(),
        "serialNumber": format(certificate.serial_number, "x"),
        "sha256": hashlib.sha256(der).hexdigest(),
        "file": str(files.cert),
    }
