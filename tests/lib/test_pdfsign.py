"""The platform's PAdES signature on its PDFs (lib/pdfsign.py, lib/pdfkeys.py): made over the whole
document, broken by any change, checked against the configured certificate, and the key and certificate
refused at start-up when they cannot serve."""

from __future__ import annotations

import datetime as dt
import io
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.management import call_command
from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pypdf import PdfReader
from reportlab.platypus import Paragraph

from lib.pdf import build_pdf, styles
from lib.pdfkeys import (
    DEV_CERTIFICATE_PEM,
    DEV_KEY_PEM,
    SigningMaterial,
    SigningMaterialError,
    load_material,
    self_signed,
)
from lib.pdfsign import platform_signer, sign_pdf, unsigned_revision, verify_pdf
from tests.config.test_settings import pdf_signing_material, real_secrets, run_settings
from tests.pdfsigned import assert_platform_signed

BODY = "投标人应当按照招标文件的要求编制投标文件，并对其真实性、合法性负责。"
NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def material(
    *, days: int = 365, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None
) -> SigningMaterial:
    return self_signed(
        "另一个文档签名证书",
        not_before=NOW - dt.timedelta(days=1),
        not_after=NOW + dt.timedelta(days=days),
        key=key,
    )


def rendered(title: str = "测试公告") -> bytes:
    s = styles()
    return build_pdf([Paragraph(title, s["title"]), Paragraph(BODY, s["body"])], title=title)


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def signature_dictionary(pdf: bytes) -> generic.DictionaryObject:
    (signature,) = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    found: generic.DictionaryObject = signature.sig_object
    return found


@pytest.fixture
def signed() -> bytes:
    with time_machine.travel(NOW, tick=False):
        return rendered()


def test_a_built_pdf_is_signed_by_the_platform_over_the_whole_file(signed):
    check = assert_platform_signed(signed)
    assert "bidhall 开发用文档签名证书 (development only)" in check.signer
    assert check.development  # the committed pair: verify_pdf says so
    assert check.signed_at == NOW and not check.timestamped
    sig = signature_dictionary(signed)
    assert sig["/Reason"] == "电子交易平台出具：测试公告"
    assert sig["/Location"] == "珠海市公共资源交易中心"
    assert sig["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES, not plain PKCS#7
    # A certification signature that permits no change after it.
    assert sig["/Reference"][0]["/TransformParams"]["/P"] == 1


def test_chinese_text_still_extracts_from_the_signed_file(signed):
    text = text_of(signed)
    assert "测试公告" in text and BODY in text
    assert text == text_of(unsigned_revision(signed))


def test_sign_pdf_appends_to_the_bytes_it_was_given():
    s = styles()
    document = build_pdf([Paragraph("原件", s["body"])], title="原件")
    plain = unsigned_revision(document)
    again = sign_pdf(plain, reason="复核", location="珠海")
    assert again.startswith(plain)
    assert signature_dictionary(again)["/Location"] == "珠海"
    assert_platform_signed(again)


def test_an_unsigned_pdf_is_not_accepted(signed):
    check = verify_pdf(unsigned_revision(signed))
    assert not check.ok and not check.signed
    assert check.problems == ["the PDF carries no signature"]
    garbage = verify_pdf(b"not a pdf at all")
    assert not garbage.ok and not garbage.signed


def flipped(pdf: bytes, at: int) -> bytes:
    """`pdf` with the byte at `at` replaced by another of its kind (digit, letter), so the file still
    parses and only the signature can tell."""
    changed = bytearray(pdf)
    byte = changed[at]
    if chr(byte).isdigit():
        changed[at] = ord("0") + (byte - ord("0") + 1) % 10
    else:
        changed[at] = ord("X") if byte != ord("X") else ord("Y")
    return bytes(changed)


def test_one_changed_byte_inside_the_signed_range_breaks_the_signature(signed):
    # The producer in the rendered document's metadata, and a digit of the signing time in the
    # signature's own dictionary: both inside the byte range the signature covers.
    producer = signed.index(b"/Producer (ReportLab") + len(b"/Producer (")
    signing_time = (
        signed.index(b"/M (D\\072", len(unsigned_revision(signed))) + len(b"/M (D\\072") + 5
    )
    assert signed[signing_time : signing_time + 1].isdigit()
    for position in (producer, signing_time, 12):
        check = verify_pdf(flipped(signed, position))
        assert not check.ok, position
        assert not check.intact, position
        assert "the signed bytes were changed (the document digest does not match)" in (
            check.problems
        )


def test_an_appended_revision_that_changes_a_page_breaks_it(signed):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    forged = generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 700 Td (FORGED) Tj ET")
    page["/Contents"] = writer.add_object(forged)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    assert tampered.startswith(signed)  # the signed bytes themselves are untouched
    check = verify_pdf(tampered)
    assert not check.ok and check.intact and not check.whole_file
    assert "the signature does not cover the whole file: something was appended" in check.problems
    assert "the document was modified after it was certified" in check.problems


def test_only_the_configured_certificate_counts(settings, signed):
    other = material()
    settings.PDF_SIGNING_KEY = other.key_pem().decode()
    settings.PDF_SIGNING_CERTIFICATE = other.chain_pem().decode()
    with time_machine.travel(NOW, tick=False):
        by_other = rendered()
    # Checked against the configuration now in force: the other certificate is the platform's.
    assert_platform_signed(by_other)
    assert not verify_pdf(by_other).development
    # The development-signed document is no longer the platform's...
    check = verify_pdf(signed)
    assert not check.ok and check.intact and not check.platform
    assert check.problems == ["the signer is not the platform's document certificate"]
    # ...unless checked against the certificate it was signed with (documents from before a rotation).
    dev_chain = x509.load_pem_x509_certificates(DEV_CERTIFICATE_PEM.encode())
    assert verify_pdf(signed, certificates=dev_chain).ok


def test_an_rsa_key_of_2048_bits_signs_too(settings):
    other = material(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    settings.PDF_SIGNING_KEY = other.key_pem().decode()
    settings.PDF_SIGNING_CERTIFICATE = other.chain_pem().decode()
    with time_machine.travel(NOW, tick=False):
        assert_platform_signed(rendered())


def test_the_signer_is_loaded_once_per_configuration(settings):
    first = platform_signer()
    assert platform_signer() is first
    other = material()
    settings.PDF_SIGNING_KEY = other.key_pem().decode()
    settings.PDF_SIGNING_CERTIFICATE = other.chain_pem().decode()
    assert platform_signer() is not first


def test_a_time_stamping_authority_is_used_only_when_configured(settings):
    assert platform_signer().timestamper is None
    settings.PDF_SIGNING_TSA_URL = "http://tsa.example.cn/tsp"
    timestamper = platform_signer().timestamper
    assert isinstance(timestamper, HTTPTimeStamper)
    assert timestamper.url == "http://tsa.example.cn/tsp"


# --- manage.py verify_pdf -------------------------------------------------------------------------


def test_the_command_prints_the_signer_and_time(signed, tmp_path, capsys):
    path = tmp_path / "公告.pdf"
    path.write_bytes(signed)
    call_command("verify_pdf", str(path))
    out, err = capsys.readouterr()
    assert "signer: Common Name: bidhall 开发用文档签名证书 (development only)" in out
    assert "signing time: 2026-03-02T" in out and f"signature OK: {path}" in out
    assert "development certificate" in err


@pytest.mark.parametrize("damage", ["unsigned", "flipped", "truncated"])
def test_the_command_exits_1_when_the_signature_is_missing_or_broken(
    signed, tmp_path, capsys, damage
):
    content = {
        "unsigned": unsigned_revision(signed),
        "flipped": flipped(signed, signed.index(b"/Producer (ReportLab") + 11),
        "truncated": signed[:-300],
    }[damage]
    path = tmp_path / "x.pdf"
    path.write_bytes(content)
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_pdf", str(path))
    assert exit_.value.code == 1
    assert "FAILED:" in capsys.readouterr().err


def test_the_command_checks_against_a_given_certificate(settings, signed, tmp_path, capsys):
    other = material()
    settings.PDF_SIGNING_KEY = other.key_pem().decode()
    settings.PDF_SIGNING_CERTIFICATE = other.chain_pem().decode()
    path = tmp_path / "old.pdf"
    path.write_bytes(signed)
    with pytest.raises(SystemExit):
        call_command("verify_pdf", str(path))
    old = tmp_path / "old-certificate.pem"
    old.write_text(DEV_CERTIFICATE_PEM)
    call_command("verify_pdf", str(path), "--certificate", str(old))
    assert "signature OK" in capsys.readouterr().out


# --- Start-up refusals (the settings in a fresh process) -------------------------------------------

SHOW = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.PDF_SIGNING_CERTIFICATE.splitlines()[1][:20])"
)


def test_production_refuses_the_development_pair_however_given(tmp_path):
    result = run_settings(
        DEBUG="0",
        **real_secrets(PDF_SIGNING_KEY=DEV_KEY_PEM, PDF_SIGNING_CERTIFICATE=DEV_CERTIFICATE_PEM),
    )
    assert result.returncode != 0
    assert "PDF_SIGNING_CERTIFICATE" in result.stderr and "PDF_SIGNING_KEY" in result.stderr
    assert DEV_KEY_PEM.splitlines()[1] not in result.stderr
    # Left unset (the default), and copied into files.
    environment = real_secrets()
    del environment["PDF_SIGNING_KEY"], environment["PDF_SIGNING_CERTIFICATE"]
    assert "PDF_SIGNING_KEY" in run_settings(DEBUG="0", **environment).stderr
    (tmp_path / "key.pem").write_text(DEV_KEY_PEM + "\n")
    (tmp_path / "cert.pem").write_text(DEV_CERTIFICATE_PEM + "\n")
    from_files = run_settings(
        DEBUG="0",
        PDF_SIGNING_KEY_FILE=str(tmp_path / "key.pem"),
        PDF_SIGNING_CERTIFICATE_FILE=str(tmp_path / "cert.pem"),
        **environment,
    )
    assert from_files.returncode != 0 and "PDF_SIGNING_KEY" in from_files.stderr


def test_production_refuses_a_re_encoded_copy_of_the_development_pair():
    """Compared by key, not by text: CRLF line endings (or a traditional-format key) are the same key."""
    traditional = (
        load_material(DEV_KEY_PEM, DEV_CERTIFICATE_PEM)
        .key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        .decode()
    )
    for key in (DEV_KEY_PEM.replace("\n", "\r\n"), traditional):
        result = run_settings(
            DEBUG="0",
            **real_secrets(
                PDF_SIGNING_KEY=key,
                PDF_SIGNING_CERTIFICATE=DEV_CERTIFICATE_PEM.replace("\n", "\r\n"),
            ),
        )
        assert result.returncode != 0
        assert "is the development pair" in result.stderr


def test_production_takes_a_real_pair_from_files(tmp_path):
    pair = pdf_signing_material()
    (tmp_path / "key.pem").write_bytes(pair.key_pem())
    (tmp_path / "cert.pem").write_bytes(pair.chain_pem())
    environment = real_secrets()
    del environment["PDF_SIGNING_KEY"], environment["PDF_SIGNING_CERTIFICATE"]
    result = run_settings(
        SHOW,
        DEBUG="0",
        PDF_SIGNING_KEY_FILE=str(tmp_path / "key.pem"),
        PDF_SIGNING_CERTIFICATE_FILE=str(tmp_path / "cert.pem"),
        **environment,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == pair.chain_pem().decode().splitlines()[1][:20]


def refused(**pdf_env: str) -> str:
    """Start-up with DEBUG on (development secrets allowed) but this document-signing material."""
    result = run_settings(DEBUG="1", **pdf_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PDF_SIGNING_KEY / PDF_SIGNING_CERTIFICATE refused" in result.stderr
    return str(result.stderr)


def test_a_certificate_that_is_not_the_keys_is_refused_even_in_development():
    stranger = ec.generate_private_key(ec.SECP256R1())
    other = material(key=stranger)
    stderr = refused(PDF_SIGNING_KEY=other.key_pem().decode())  # the development certificate
    assert "does not belong to the key" in stderr
    stderr = refused(
        PDF_SIGNING_KEY=pdf_signing_material().key_pem().decode(),
        PDF_SIGNING_CERTIFICATE=other.chain_pem().decode(),
    )
    assert "does not belong to the key" in stderr


def test_an_expired_certificate_is_refused():
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    expired = self_signed(
        "过期证书",
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=1),
        key=key,
    )
    stderr = refused(
        PDF_SIGNING_KEY=expired.key_pem().decode(),
        PDF_SIGNING_CERTIFICATE=expired.chain_pem().decode(),
    )
    assert "expired on" in stderr


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "at least 2048"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "only P-256"),
    ],
    ids=["rsa-1024", "p-384"],
)
def test_weak_or_unexpected_keys_are_refused(key, reason):
    now = dt.datetime.now(dt.UTC)
    pair = self_signed(
        "弱密钥",
        not_before=now - dt.timedelta(days=1),
        not_after=now + dt.timedelta(days=9),
        key=key(),
    )
    stderr = refused(
        PDF_SIGNING_KEY=pair.key_pem().decode(), PDF_SIGNING_CERTIFICATE=pair.chain_pem().decode()
    )
    assert reason in stderr


def test_garbage_is_refused_without_quoting_it():
    stderr = refused(PDF_SIGNING_KEY="-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END")
    assert "not an unencrypted PEM private key" in stderr and "c2VjcmV0LXZhbHVl" not in stderr


# --- A certificate from a CA (the production shape) -------------------------------------------------


def issued_by_a_ca(*, digital_signature: bool = True, content_commitment: bool = False):
    """A root CA and a document-signing certificate it issued: (leaf key, chain PEM leaf first)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "测试根证书")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "交易中心文档签名")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=content_commitment,
                key_encipherment=not (digital_signature or content_commitment),
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, ca))
    return key, pem.decode()


def test_a_ca_issued_chain_signs_and_is_checked_up_to_its_root(settings):
    key, chain = issued_by_a_ca()
    settings.PDF_SIGNING_KEY = material(key=key).key_pem().decode()
    settings.PDF_SIGNING_CERTIFICATE = chain
    with time_machine.travel(NOW, tick=False):
        check = assert_platform_signed(rendered())
    assert "交易中心文档签名" in check.signer and not check.development
    # The root alone is not the signer: a document must be signed by the chain's first certificate.
    (_leaf, root) = x509.load_pem_x509_certificates(chain.encode())
    with time_machine.travel(NOW, tick=False):
        signed = rendered()
    assert verify_pdf(signed, certificates=[root]).problems == [
        "the signer is not the platform's document certificate"
    ]


def test_a_certificate_that_may_not_sign_is_refused():
    key, chain = issued_by_a_ca(digital_signature=False)
    with pytest.raises(SigningMaterialError, match="neither digitalSignature nor nonRepudiation"):
        load_material(material(key=key).key_pem(), chain)
    # nonRepudiation alone will do (what many CAs issue for document signing).
    key, chain = issued_by_a_ca(digital_signature=False, content_commitment=True)
    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    assert load_material(material(key=key).key_pem(), chain).leaf == leaf


def test_a_chain_out_of_order_is_refused():
    key, chain = issued_by_a_ca()
    leaf, root = x509.load_pem_x509_certificates(chain.encode())
    unrelated = material().leaf
    reordered = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, unrelated))
    with pytest.raises(SigningMaterialError, match="out of order"):
        load_material(material(key=key).key_pem(), reordered)
    assert load_material(material(key=key).key_pem(), chain).chain[1] == root


# --- With a time-stamping authority -------------------------------------------------------------------


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    issuer: x509.Certificate | None = None,
    **ext: bool,
) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if ext.get("time_stamping"):
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder


@pytest.fixture
def tsa(settings):
    """A time-stamping authority on a local port (pyHanko's DummyTimeStamper behind plain HTTP)."""
    # pyHanko's dummy TSA signs with RSA only.
    root_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _certificate("测试时间戳根证书", root_key).sign(root_key, hashes.SHA256())
    tsa_cert = _certificate("测试时间戳服务", tsa_key, root, time_stamping=True).sign(
        root_key, hashes.SHA256()
    )
    (tsa_asn1,) = load_certs_from_pemder_data(tsa_cert.public_bytes(serialization.Encoding.PEM))
    stamper = DummyTimeStamper(
        tsa_cert=tsa_asn1,
        tsa_key=load_private_key_from_pemder_data(
            tsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            passphrase=None,
        ),
    )
    requests: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(len(body))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.PDF_SIGNING_TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/tsp"
    yield requests
    server.shutdown()
    thread.join()


def test_with_a_tsa_each_signature_carries_its_timestamp(tsa):
    signed = rendered()
    # The first document measures the token's size (pyHanko's dry run asks the TSA too)...
    assert len(tsa) == 2
    check = assert_platform_signed(signed)
    assert check.timestamped
    # ...later ones reuse that room: one request each.
    again = rendered()
    assert len(tsa) == 3
    assert assert_platform_signed(again).timestamped
