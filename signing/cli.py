"""A small command-line signer for people whose key lives in a file or comes off a token.

    python -m signing.cli keygen --algorithm sm2 --out key.pem
    python -m signing.cli publickey --key key.pem            # SubjectPublicKeyInfo PEM for a CA
    python -m signing.cli csr --key key.pem --cn 张三 --serial-number 91440400MA0000001X
    python -m signing.cli sign --key key.pem --statement statement.json   # base64 DER signature
    python -m signing.cli verify --cert cert.pem --statement statement.json --signature <base64>

It imports no Django (only the pinned asn1crypto, cryptography and tongsuopy, through
`signing.algorithms`, the same code the server verifies with), so it runs on a signer's own machine
with a checkout of the repository and those libraries. docs/signing.md walks through a signature.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import sys
from pathlib import Path
from typing import BinaryIO

from asn1crypto import csr, keys, pem, x509

from signing import algorithms

# A statement the platform hands out is a few kilobytes of canonical JSON; anything far larger is a
# wrong file.
MAX_STATEMENT_BYTES = 1024 * 1024


def _read_key(path: str) -> bytes:
    data = Path(path).read_bytes()
    if len(data) > algorithms.MAX_PEM_BYTES:
        raise SystemExit(f"{path}: not a key file (too large)")
    return data


def _read_statement(source: str, stdin: BinaryIO, *, exact: bool) -> bytes:
    if source == "-":
        data = stdin.read(MAX_STATEMENT_BYTES + 1)
    else:
        with open(source, "rb") as handle:
            data = handle.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise SystemExit("the statement is larger than 1 MiB: not a signing statement")
    # The platform's statements are canonical JSON and never end with a line break; an editor or
    # `echo` adds one, which would make the signature cover other bytes than the statement.
    return data if exact else data.rstrip(b"\r\n")


def keygen(algorithm: str, out: str) -> None:
    path = Path(out)
    key_pem = algorithms.generate_private_key("sm2" if algorithm == "sm2" else "p256")
    # Created readable by its owner only, and never over an existing key.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_pem)
    sys.stderr.write(f"private key written to {path}; hand the public key to the CA:\n")
    sys.stdout.write(algorithms.public_key_pem(key_pem).decode("ascii"))


def certification_request(
    key_pem: bytes, common_name: str, organization: str, serial_number: str
) -> bytes:
    """A PKCS#10 request (PEM) signed with the key: what a CA asks for when it issues a certificate."""
    algorithm = algorithms.private_key_algorithm(key_pem)
    attributes = {"country_name": "CN", "common_name": common_name}
    if organization:
        attributes["organization_name"] = organization
    if serial_number:
        attributes["serial_number"] = serial_number
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": x509.Name.build(attributes, use_printable=False),
            "subject_pk_info": keys.PublicKeyInfo.load(algorithms.public_key_der(key_pem)),
            "attributes": [],
        }
    )
    request = csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": {"algorithm": algorithms.SIGNATURE_OIDS[algorithm]},
            "signature": algorithms.sign(key_pem, info.dump()),
        }
    )
    return bytes(pem.armor("CERTIFICATE REQUEST", request.dump()))


def certificate_public_key(cert_data: bytes) -> bytes:
    """The SubjectPublicKeyInfo (DER) of a PEM or DER certificate."""
    der = bytes(pem.unarmor(cert_data.strip())[2]) if pem.detect(cert_data) else cert_data
    certificate = x509.Certificate.load(der, strict=True)
    return bytes(certificate["tbs_certificate"]["subject_public_key_info"].dump())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m signing.cli", description="bidhall command-line signer (SM2 / P-256)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("keygen", help="create a private key (PKCS#8 PEM, mode 0600)")
    generate.add_argument("--algorithm", choices=algorithms.ALGORITHMS, required=True)
    generate.add_argument("--out", required=True, help="file to create (never overwritten)")

    public = commands.add_parser("publickey", help="print the public key (PEM) to hand to a CA")
    public.add_argument("--key", required=True)

    request = commands.add_parser("csr", help="print a PKCS#10 certificate request (PEM)")
    request.add_argument("--key", required=True)
    request.add_argument(
        "--cn", required=True, help="common name: the person's or organization's name"
    )
    request.add_argument("--org", default="", help="organization name")
    request.add_argument(
        "--serial-number",
        default="",
        help="subject serialNumber: the organization's USCC, or the person's identifier",
    )

    sign = commands.add_parser("sign", help="sign a statement; prints the base64 DER signature")
    sign.add_argument("--key", required=True)
    sign.add_argument("--statement", default="-", help="file with the statement text, - for stdin")
    sign.add_argument(
        "--exact",
        action="store_true",
        help="sign the bytes as they are (keep trailing line breaks)",
    )

    check = commands.add_parser("verify", help="check a signature against a certificate's key")
    check.add_argument("--cert", required=True)
    check.add_argument("--statement", default="-")
    check.add_argument("--signature", required=True, help="base64 signature (DER or raw r||s)")
    check.add_argument("--exact", action="store_true")

    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            keygen(args.algorithm, args.out)
        elif args.command == "publickey":
            sys.stdout.write(algorithms.public_key_pem(_read_key(args.key)).decode("ascii"))
        elif args.command == "csr":
            key_pem = _read_key(args.key)
            request_pem = certification_request(key_pem, args.cn, args.org, args.serial_number)
            sys.stdout.write(request_pem.decode("ascii"))
        elif args.command == "sign":
            statement = _read_statement(args.statement, sys.stdin.buffer, exact=args.exact)
            signature = algorithms.sign(_read_key(args.key), statement)
            sys.stdout.write(base64.b64encode(signature).decode("ascii") + "\n")
        elif args.command == "verify":
            statement = _read_statement(args.statement, sys.stdin.buffer, exact=args.exact)
            spki = certificate_public_key(Path(args.cert).read_bytes())
            signature = base64.b64decode(args.signature, validate=True)
            algorithm = algorithms.public_key_algorithm(spki)
            if not algorithms.verify(algorithm, spki, statement, signature):
                sys.stderr.write("signature does NOT match the statement and certificate\n")
                return 1
            sys.stdout.write("signature valid for this certificate's key\n")
    except FileExistsError as exc:
        sys.stderr.write(f"{exc.filename} exists: not overwriting a key\n")
        return 2
    except (OSError, ValueError, binascii.Error) as exc:
        # UnsupportedKey and asn1crypto's parse errors are ValueErrors.
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
