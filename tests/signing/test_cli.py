"""The command-line signer, run as a signer runs it (a separate process without Django), and its
signatures verified by the platform."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import csr, pem
from django.conf import settings
from django.utils import timezone

from signing import algorithms, ca_simulator, pki
from tests.conftest import make_uscc
from tests.signing.helpers import ALGORITHMS

pytestmark = pytest.mark.django_db

STATEMENT = (
    '{"act":"opening.confirm","asked_at":"2026-12-05T10:00:00+08:00","target":"bidding.opening:3"}'
)


def signer(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    # No DJANGO_SETTINGS_MODULE: the signer must not need the platform's configuration.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    environment["PYTHONPATH"] = str(settings.BASE_DIR)
    return subprocess.run(
        [sys.executable, "-m", "signing.cli", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_keygen_then_sign_is_verified_by_the_platform(tmp_path, algorithm):
    made = signer("keygen", "--algorithm", algorithm, "--out", "key.pem", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key_file = tmp_path / "key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # keygen prints the public key; publickey prints it again from the file.
    public = signer("publickey", "--key", "key.pem", cwd=tmp_path)
    assert public.stdout == made.stdout
    cert = pki.load_certificate(
        ca_simulator.issue(
            public.stdout,
            algorithm=algorithm,
            kind="organization",
            common_name="甲建设公司",
            uscc=make_uscc(),
        )
    )
    # The statement as a browser download or an editor leaves it: with a final line break.
    (tmp_path / "statement.json").write_text(STATEMENT + "\n", encoding="utf-8")

    signed = signer("sign", "--key", "key.pem", "--statement", "statement.json", cwd=tmp_path)

    assert signed.returncode == 0, signed.stderr
    signature = base64.b64decode(signed.stdout.strip(), validate=True)
    pki.check_certificate(cert, timezone.now())
    assert pki.verify_signature(cert, STATEMENT.encode(), signature)
    assert not pki.verify_signature(cert, STATEMENT.replace("3", "4").encode(), signature)


def test_sign_reads_stdin_and_verify_checks_against_the_certificate(tmp_path):
    key_pem, cert_pem = ca_simulator.issue_with_key(
        algorithm="sm2", kind="person", common_name="张三", person_id="P-0001"
    )
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)

    signed = signer("sign", "--key", "key.pem", cwd=tmp_path, stdin=STATEMENT.encode())
    assert signed.returncode == 0, signed.stderr
    signature = signed.stdout.decode().strip()
    assert pki.verify_signature(
        pki.load_certificate(cert_pem), STATEMENT.encode(), base64.b64decode(signature)
    )

    good = signer(
        "verify",
        "--cert",
        "cert.pem",
        "--signature",
        signature,
        cwd=tmp_path,
        stdin=STATEMENT.encode(),
    )
    assert good.returncode == 0, good.stderr
    bad = signer(
        "verify", "--cert", "cert.pem", "--signature", signature, cwd=tmp_path, stdin=b"{}"
    )
    assert bad.returncode == 1


def test_exact_keeps_trailing_line_breaks(tmp_path):
    key_pem = algorithms.generate_private_key("p256")
    (tmp_path / "key.pem").write_bytes(key_pem)
    spki = algorithms.public_key_der(key_pem)
    text = (STATEMENT + "\n").encode()

    signed = signer("sign", "--key", "key.pem", "--exact", cwd=tmp_path, stdin=text)

    signature = base64.b64decode(signed.stdout.strip())
    assert algorithms.verify("p256", spki, text, signature)
    assert not algorithms.verify("p256", spki, STATEMENT.encode(), signature)


def test_keygen_never_overwrites_a_key(tmp_path):
    (tmp_path / "key.pem").write_bytes(b"precious")
    made = signer("keygen", "--algorithm", "sm2", "--out", "key.pem", cwd=tmp_path)
    assert made.returncode == 2
    assert (tmp_path / "key.pem").read_bytes() == b"precious"


def test_a_file_that_is_not_a_key_is_an_error_not_a_traceback(tmp_path):
    (tmp_path / "key.pem").write_bytes(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    )
    signed = signer("sign", "--key", "key.pem", cwd=tmp_path, stdin=b"{}")
    assert signed.returncode == 2
    assert b"Traceback" not in signed.stderr


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_csr_is_signed_by_the_key_it_names(tmp_path, algorithm):
    signer("keygen", "--algorithm", algorithm, "--out", "key.pem", cwd=tmp_path)
    uscc = make_uscc()

    made = signer(
        "csr", "--key", "key.pem", "--cn", "甲建设公司", "--serial-number", uscc, cwd=tmp_path
    )

    assert made.returncode == 0, made.stderr
    request = csr.CertificationRequest.load(pem.unarmor(made.stdout)[2])
    info = request["certification_request_info"]
    assert info["subject"].native["serial_number"] == uscc
    assert info["subject"].native["common_name"] == "甲建设公司"
    spki = info["subject_pk_info"].dump()
    assert spki == algorithms.public_key_der((tmp_path / "key.pem").read_bytes())
    assert (
        request["signature_algorithm"]["algorithm"].dotted == algorithms.SIGNATURE_OIDS[algorithm]
    )
    assert algorithms.verify(algorithm, spki, info.dump(), bytes(request["signature"].native))


def test_the_signer_runs_without_django(tmp_path):
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, signing.cli; sys.exit('django' in sys.modules)",
        ],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(settings.BASE_DIR)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
