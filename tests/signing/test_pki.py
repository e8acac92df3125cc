"""Certificates at the moment of a signature: validity, key usage, issuer (by key, not by name),
revocation (fail closed), for SM2 and P-256; the CA simulator; external CAs and their CRLs."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import io
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import algos, keys, pem, x509
from cryptography import x509 as std_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from clock.models import ScheduledTask
from clock.registry import get_step, recurring_steps
from lib.errors import NotPermitted
from signing import algorithms, builder, ca_simulator, pki
from signing.models import RevocationList, SimulatedAuthority
from signing.tasks import REFRESH_STEP
from tests.conftest import make_uscc, requires_postgres, run_concurrently
from tests.signing.helpers import ALGORITHMS, ExternalCA, simulator_cert, write_trust_file

pytestmark = pytest.mark.django_db

STATEMENT = '{"act":"bid.submit","asked_at":"2026-12-05T10:00:00+08:00","target":"trading.lot:7"}'


@pytest.fixture(autouse=True)
def _trust_only_the_simulator(settings):
    settings.CA_SIMULATOR = True
    settings.SIGNING_TRUSTED_CAS_FILE = ""


@pytest.fixture(params=ALGORITHMS)
def algorithm(request) -> str:
    return str(request.param)


def refusal(cert: pki.CertInfo, at: dt.datetime | None = None) -> str:
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.check_certificate(cert, at or timezone.now())
    return refused.value.code


# --- accepted ------------------------------------------------------------------------------------


def test_a_valid_certificate_and_signature_are_accepted(algorithm):
    uscc = make_uscc()
    key_pem, cert = simulator_cert(algorithm, uscc=uscc)

    ca = pki.check_certificate(cert, timezone.now())

    assert ca.cert == ca_simulator.root(algorithm)
    assert cert.algorithm == algorithm
    assert cert.uscc == uscc and cert.person_id is None
    assert cert.common_name == "甲建设公司"
    assert f"serialNumber={uscc}" in cert.subject_dn
    assert cert.issuer_dn == ca.cert.subject_dn
    assert {"digital_signature", "non_repudiation"} <= cert.key_usage
    signature = pki.sign_message(key_pem, STATEMENT.encode())
    assert pki.verify_signature(cert, STATEMENT.encode(), signature)


def test_a_person_certificate_carries_the_person_and_the_organization(algorithm):
    uscc = make_uscc()
    _, cert = simulator_cert(algorithm, kind="person", person_id="110101199003071234", uscc=uscc)

    assert cert.person_id == "110101199003071234"
    assert cert.uscc == uscc
    pki.check_certificate(cert, timezone.now())


def test_pem_and_der_read_the_same(algorithm):
    _, cert = simulator_cert(algorithm)
    assert pki.load_certificate(cert.der) == cert
    assert pki.load_certificate(cert.pem()) == cert


# --- signatures ----------------------------------------------------------------------------------


def test_a_forged_signature_is_refused(algorithm):
    _, cert = simulator_cert(algorithm)
    other_key = algorithms.generate_private_key(cert.algorithm)
    forged = pki.sign_message(other_key, STATEMENT.encode())

    assert not pki.verify_signature(cert, STATEMENT.encode(), forged)
    assert not pki.verify_signature(cert, STATEMENT.encode(), b"")
    assert not pki.verify_signature(cert, STATEMENT.encode(), secrets.token_bytes(64))
    assert not pki.verify_signature(cert, STATEMENT.encode(), b"\x30\x06\x02\x01\x01\x02\x01\x01")


def test_a_changed_signature_is_refused(algorithm):
    key_pem, cert = simulator_cert(algorithm)
    signature = bytearray(pki.sign_message(key_pem, STATEMENT.encode()))
    signature[-1] ^= 0x01
    assert not pki.verify_signature(cert, STATEMENT.encode(), bytes(signature))


def test_a_signature_over_other_content_is_refused(algorithm):
    key_pem, cert = simulator_cert(algorithm)
    signature = pki.sign_message(key_pem, STATEMENT.encode())
    other = STATEMENT.replace("trading.lot:7", "trading.lot:8").encode()
    assert not pki.verify_signature(cert, other, signature)


def test_raw_r_s_signatures_are_accepted_like_der(algorithm):
    # WebCrypto hands out r || s (IEEE P1363), not DER.
    key_pem, cert = simulator_cert(algorithm)
    der = pki.sign_message(key_pem, STATEMENT.encode())
    raw = algos.DSASignature.load(der).to_p1363()

    assert len(raw) == 64
    assert pki.verify_signature(cert, STATEMENT.encode(), raw)
    assert not pki.verify_signature(cert, b"other", raw)


def test_a_signature_of_one_algorithm_does_not_pass_for_the_other():
    sm2_key, sm2_cert = simulator_cert("sm2")
    _, p256_cert = simulator_cert("p256")
    signature = pki.sign_message(sm2_key, STATEMENT.encode())
    assert pki.verify_signature(sm2_cert, STATEMENT.encode(), signature)
    assert not pki.verify_signature(p256_cert, STATEMENT.encode(), signature)


# --- validity and key usage ----------------------------------------------------------------------


def test_an_expired_certificate_is_refused(algorithm):
    now = timezone.now()
    _, cert = simulator_cert(algorithm, not_before=now - dt.timedelta(days=400), days=365)

    assert refusal(cert) == "CERTIFICATE_EXPIRED"
    # Inside its validity it was fine: the check is at the time given.
    assert pki.check_certificate(cert, now - dt.timedelta(days=100))


def test_a_certificate_not_yet_valid_is_refused(algorithm):
    _, cert = simulator_cert(algorithm, not_before=timezone.now() + dt.timedelta(days=1))
    assert refusal(cert) == "CERTIFICATE_NOT_YET_VALID"


def test_a_certificate_without_a_signing_key_usage_is_refused(algorithm):
    _, cert = simulator_cert(algorithm, key_usage=("key_encipherment",))
    assert refusal(cert) == "CERTIFICATE_KEY_USAGE"


def test_non_repudiation_alone_is_a_signing_usage(algorithm):
    _, cert = simulator_cert(algorithm, key_usage=("non_repudiation",))
    pki.check_certificate(cert, timezone.now())


# --- trust ---------------------------------------------------------------------------------------


def test_a_look_alike_ca_with_the_trusted_name_but_another_key_is_not_trusted(algorithm):
    trusted_root = ca_simulator.root(algorithm)
    same_name = x509.Certificate.load(trusted_root.der).subject
    impostor = ExternalCA.create(algorithm, same_name)
    _, cert = impostor.issue()

    assert cert.issuer_dn == trusted_root.subject_dn
    assert refusal(cert) == "CERTIFICATE_UNTRUSTED"


def test_a_certificate_of_an_unknown_ca_is_not_trusted(algorithm):
    _, cert = ExternalCA.create(algorithm).issue()
    assert refusal(cert) == "CERTIFICATE_UNTRUSTED"


def test_the_simulator_is_trusted_only_while_it_is_on(settings, algorithm):
    _, cert = simulator_cert(algorithm)
    settings.CA_SIMULATOR = False

    assert pki.trusted_cas() == []
    assert refusal(cert) == "CERTIFICATE_UNTRUSTED"
    with pytest.raises(NotPermitted):
        ca_simulator.issue_with_key(
            algorithm=algorithm, kind="organization", common_name="x", uscc=make_uscc()
        )
    with pytest.raises(NotPermitted):
        ca_simulator.revoke(cert.serial_hex, algorithm)


def test_the_simulator_keeps_one_root_per_algorithm_and_purpose(algorithm):
    first = ca_simulator.root(algorithm)
    assert ca_simulator.root(algorithm) == first
    issuer_root = ca_simulator.root(algorithm, "issuer")
    assert issuer_root != first
    assert SimulatedAuthority.objects.filter(algorithm=algorithm).count() == 2
    assert issuer_root.is_ca and "key_cert_sign" in issuer_root.key_usage


# --- revocation ----------------------------------------------------------------------------------


def test_a_revoked_certificate_is_refused_and_its_siblings_are_not(algorithm):
    _, revoked = simulator_cert(algorithm)
    _, sibling = simulator_cert(algorithm)
    pki.check_certificate(revoked, timezone.now())

    ca_simulator.revoke(revoked.serial_hex, algorithm)

    assert refusal(revoked) == "CERTIFICATE_REVOKED"
    pki.check_certificate(sibling, timezone.now())
    # Revoking again keeps the earlier entries.
    ca_simulator.revoke(sibling.serial_hex, algorithm)
    assert refusal(revoked) == "CERTIFICATE_REVOKED"
    assert refusal(sibling) == "CERTIFICATE_REVOKED"


def test_no_crl_for_the_ca_fails_closed(algorithm):
    _, cert = simulator_cert(algorithm)
    RevocationList.objects.all().delete()
    assert refusal(cert) == "CERTIFICATE_CRL_UNAVAILABLE"


def test_a_crl_past_its_next_update_fails_closed(algorithm):
    _, cert = simulator_cert(algorithm)
    crl = ca_simulator.current_crl(algorithm)
    assert crl.next_update is not None

    assert refusal(cert, crl.next_update + dt.timedelta(seconds=1)) == "CERTIFICATE_CRL_UNAVAILABLE"
    pki.check_certificate(cert, crl.next_update - dt.timedelta(seconds=1))


def test_a_crl_signed_by_another_key_is_refused_and_never_unrevokes(algorithm):
    _, cert = simulator_cert(algorithm)
    ca_simulator.revoke(cert.serial_hex, algorithm)
    root = ca_simulator.root(algorithm)
    (ca,) = [ca for ca in pki.trusted_cas() if ca.cert == root]
    impostor = ExternalCA.create(algorithm, x509.Certificate.load(root.der).subject)
    forged_empty = impostor.crl(this_update=timezone.now() + dt.timedelta(seconds=5))

    with pytest.raises(pki.CrlRefused):
        pki.store_crl(ca, forged_empty, "test")
    # Even written into the database behind the checks, as the newest CRL it stops the CA rather
    # than clearing the revocation.
    RevocationList.objects.create(
        ca_sha256=root.sha256,
        der=forged_empty,
        sha256=hashlib.sha256(forged_empty).hexdigest(),
        this_update=timezone.now() + dt.timedelta(seconds=5),
        next_update=timezone.now() + dt.timedelta(days=7),
        fetched_at=timezone.now(),
    )
    assert refusal(cert) == "CERTIFICATE_CRL_UNAVAILABLE"


def test_revoking_a_serial_that_is_not_hex_is_refused(algorithm):
    with pytest.raises(ca_simulator.DomainError) as refused:
        ca_simulator.revoke("not-hex", algorithm)
    assert refused.value.code == "CA_SIMULATOR_INVALID"


def test_the_simulator_renews_its_crl_before_the_next_update(algorithm, settings):
    _, cert = simulator_cert(algorithm)
    first = ca_simulator.current_crl(algorithm)
    assert ca_simulator.refresh_crls() >= 1
    # Still far from its nextUpdate: kept.
    assert ca_simulator.current_crl(algorithm) == first
    RevocationList.objects.filter(pk=first.pk).update(
        next_update=timezone.now() + dt.timedelta(hours=1)
    )
    ca_simulator.refresh_crls()
    renewed = ca_simulator.current_crl(algorithm)
    assert renewed != first
    assert renewed.next_update is not None
    assert renewed.next_update > timezone.now() + dt.timedelta(hours=12)
    pki.check_certificate(cert, timezone.now())


# --- external CAs (SIGNING_TRUSTED_CAS_FILE) -----------------------------------------------------


@pytest.fixture
def external(settings, tmp_path: Path, algorithm: str) -> Iterator[tuple[ExternalCA, Path]]:
    ca = ExternalCA.create(algorithm)
    crl_path = tmp_path / "ca.crl"
    settings.SIGNING_TRUSTED_CAS_FILE = str(
        write_trust_file(tmp_path, [("某省 CA", ca, crl_path.name)])
    )
    yield ca, crl_path


def test_a_configured_ca_is_trusted_once_its_crl_is_fetched(external):
    ca, crl_path = external
    _, good = ca.issue()
    _, revoked = ca.issue()
    crl_path.write_bytes(ca.crl({revoked.serial: timezone.now() - dt.timedelta(hours=1)}))

    (configured,) = [trusted for trusted in pki.trusted_cas() if trusted.name == "某省 CA"]
    assert configured.crl_source == str(crl_path)
    # Trusted, but no CRL fetched yet: nothing signs.
    assert refusal(good) == "CERTIFICATE_CRL_UNAVAILABLE"

    (result,) = pki.refresh_crls()
    assert result.stored and result.ca == "某省 CA"

    assert pki.check_certificate(good, timezone.now()).name == "某省 CA"
    assert refusal(revoked) == "CERTIFICATE_REVOKED"
    # The same CRL fetched again is the same row.
    pki.refresh_crls()
    assert RevocationList.objects.filter(ca_sha256=configured.cert.sha256).count() == 1


def test_a_pem_crl_from_a_file_url_is_read(settings, tmp_path, algorithm):
    ca = ExternalCA.create(algorithm)
    _, cert = ca.issue()
    crl_path = tmp_path / "published" / "ca.pem.crl"
    crl_path.parent.mkdir()
    crl_path.write_bytes(pem.armor("X509 CRL", ca.crl()))
    settings.SIGNING_TRUSTED_CAS_FILE = str(
        write_trust_file(tmp_path, [("CA", ca, crl_path.as_uri())])
    )

    (result,) = pki.refresh_crls()
    assert result.stored, result.error
    pki.check_certificate(cert, timezone.now())


def test_a_crl_from_an_http_distribution_point_is_fetched(settings, tmp_path, algorithm):
    ca = ExternalCA.create(algorithm)
    _, cert = ca.issue()
    body = ca.crl()

    class CrlHandler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), CrlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/ca.crl"
        settings.SIGNING_TRUSTED_CAS_FILE = str(write_trust_file(tmp_path, [("HTTP CA", ca, url)]))
        (result,) = pki.refresh_crls()
    finally:
        server.shutdown()
        server.server_close()
    assert result.stored, result.error
    pki.check_certificate(cert, timezone.now())


def test_a_fetched_crl_not_signed_by_the_ca_is_not_stored(external, algorithm):
    ca, crl_path = external
    _, cert = ca.issue()
    crl_path.write_bytes(ca.crl())
    pki.refresh_crls()
    impostor = ExternalCA.create(algorithm, ca.subject)
    crl_path.write_bytes(impostor.crl(this_update=timezone.now(), number=2))

    (result,) = pki.refresh_crls()

    assert not result.stored and "not signed" in result.error
    # The CA's own CRL is still the one consulted.
    assert RevocationList.objects.count() == 1
    pki.check_certificate(cert, timezone.now())


def test_a_crl_without_next_update_is_never_current(external):
    ca, crl_path = external
    _, cert = ca.issue()
    crl_path.write_bytes(ca.crl(valid_for=None))
    assert pki.refresh_crls()[0].stored
    assert refusal(cert) == "CERTIFICATE_CRL_UNAVAILABLE"


def test_an_unreachable_crl_keeps_the_ca_closed(external):
    ca, _ = external
    _, cert = ca.issue()
    (result,) = pki.refresh_crls()
    assert not result.stored
    assert refusal(cert) == "CERTIFICATE_CRL_UNAVAILABLE"


@pytest.mark.parametrize(
    "unfit",
    [
        {"is_ca": False, "key_usage": ("key_cert_sign", "crl_sign")},
        {"is_ca": True, "key_usage": ("crl_sign", "digital_signature")},
        {
            "not_before": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
            "not_after": dt.datetime(2021, 1, 1, tzinfo=dt.UTC),
        },
    ],
    ids=["not-a-ca", "no-key-cert-sign", "expired-ca"],
)
def test_a_configured_ca_unfit_to_issue_is_not_trusted(settings, tmp_path, algorithm, unfit):
    ca = ExternalCA.create(algorithm, **unfit)
    crl_path = tmp_path / "ca.crl"
    crl_path.write_bytes(ca.crl())
    settings.SIGNING_TRUSTED_CAS_FILE = str(write_trust_file(tmp_path, [("CA", ca, "ca.crl")]))
    pki.refresh_crls()
    _, cert = ca.issue()
    assert refusal(cert) == "CERTIFICATE_UNTRUSTED"


def test_the_refresh_command_reports_each_ca(external):
    ca, crl_path = external
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("refresh_crls", stdout=out)
    assert "某省 CA: FAILED" in out.getvalue()

    crl_path.write_bytes(ca.crl())
    out = io.StringIO()
    call_command("refresh_crls", stdout=out)
    assert "某省 CA: ok" in out.getvalue()


def test_the_clock_refreshes_crls_and_books_the_next_run(settings, external):
    ca, crl_path = external
    crl_path.write_bytes(ca.crl())
    _, cert = ca.issue()
    assert REFRESH_STEP in recurring_steps()

    get_step(REFRESH_STEP)("crls")

    pki.check_certificate(cert, timezone.now())
    (task,) = ScheduledTask.objects.filter(step=REFRESH_STEP, done_at__isnull=True)
    interval = dt.timedelta(seconds=settings.SIGNING_CRL_REFRESH_SECONDS)
    assert timezone.now() < task.due_at <= timezone.now() + interval


@pytest.mark.django_db(transaction=True)
def test_the_clock_books_the_first_refresh_when_none_is_pending():
    # run_clock closes connections like any long-running process: real commits here.
    call_command("run_clock", "--once", stdout=io.StringIO())
    (booked,) = ScheduledTask.objects.filter(step=REFRESH_STEP, done_at__isnull=True)
    assert timezone.now() < booked.due_at <= timezone.now() + dt.timedelta(minutes=1)

    # A restarting clock leaves the pending run where it is.
    call_command("run_clock", "--once", stdout=io.StringIO())
    (still,) = ScheduledTask.objects.filter(step=REFRESH_STEP, done_at__isnull=True)
    assert still.due_at == booked.due_at


# --- reading certificates ------------------------------------------------------------------------


def test_garbage_is_a_malformed_certificate():
    broken_pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    for data in (b"", b"not a certificate", broken_pem):
        with pytest.raises(pki.CertificateRefused) as refused:
            pki.load_certificate(data)
        assert refused.value.code == "CERTIFICATE_MALFORMED"


def test_an_unknown_critical_extension_makes_a_certificate_unusable(algorithm):
    ca = ExternalCA.create(algorithm)
    key_pem = algorithms.generate_private_key(cert_algorithm(algorithm))
    now = timezone.now()

    def with_extension(critical: bool) -> bytes:
        return builder.build_certificate(
            issuer_key_pem=ca.key_pem,
            issuer_name=ca.subject,
            subject_name=builder.name({"common_name": "x", "serial_number": make_uscc()}),
            subject_spki=algorithms.public_key_der(key_pem),
            not_before=now,
            not_after=now + dt.timedelta(days=1),
            key_usage=("digital_signature",),
            is_ca=False,
            extra_extensions=[
                {"extn_id": "1.2.3.4.5", "critical": critical, "extn_value": b"\x05\x00"}
            ],
        )

    assert pki.load_certificate(with_extension(False)).common_name == "x"
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.load_certificate(with_extension(True))
    assert refused.value.code == "CERTIFICATE_MALFORMED"


def cert_algorithm(algorithm: str) -> algorithms.AlgorithmName:
    return "sm2" if algorithm == "sm2" else "p256"


def _cryptography_certificate(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    name = std_x509.Name([std_x509.NameAttribute(std_x509.oid.NameOID.COMMON_NAME, "x")])
    now = timezone.now()
    return (
        std_x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )


@pytest.mark.parametrize("key", ["rsa", "p384"])
def test_other_algorithms_are_refused(key):
    private_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if key == "rsa"
        else ec.generate_private_key(ec.SECP384R1())
    )
    with pytest.raises(pki.CertificateRefused) as refused:
        pki.load_certificate(_cryptography_certificate(private_key))
    assert refused.value.code == "CERTIFICATE_ALGORITHM"


def test_cryptography_reads_and_verifies_what_the_simulator_issues_with_p256():
    # An independent X.509 implementation agrees on the P-256 certificate and CRL encodings.
    _, cert = simulator_cert("p256")
    root = std_x509.load_der_x509_certificate(ca_simulator.root("p256").der)
    parsed = std_x509.load_der_x509_certificate(cert.der)
    parsed.verify_directly_issued_by(root)
    crl = std_x509.load_der_x509_crl(bytes(ca_simulator.current_crl("p256").der))
    assert crl.is_signature_valid(root.public_key())  # type: ignore[arg-type]


# --- SM2: an independent computation ---------------------------------------------------------------

# sm2p256v1, the curve GB/T 32918.5 recommends (the same numbers as `openssl ecparam -name SM2
# -param_enc explicit`).
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
G = (
    0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)
DEFAULT_ID = b"1234567812345678"

Point = tuple[int, int] | None


def _add(p1: Point, p2: Point) -> Point:
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % P == 0:
        return None
    if p1 == p2:
        slope = (3 * p1[0] * p1[0] + A) * pow(2 * p1[1], -1, P) % P
    else:
        slope = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, P) % P
    x = (slope * slope - p1[0] - p2[0]) % P
    return x, (slope * (p1[0] - x) - p1[1]) % P


def _mul(k: int, point: Point) -> Point:
    result: Point = None
    while k:
        if k & 1:
            result = _add(result, point)
        point = _add(point, point)
        k >>= 1
    return result


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def _e(public: tuple[int, int], message: bytes) -> int:
    """e = SM3(Z_A || M), Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)."""
    z = _sm3(
        (len(DEFAULT_ID) * 8).to_bytes(2, "big")
        + DEFAULT_ID
        + b"".join(value.to_bytes(32, "big") for value in (A, B, *G, *public))
    )
    return int.from_bytes(_sm3(z + message), "big")


def _public_point(cert: pki.CertInfo) -> tuple[int, int]:
    x, y = keys.PublicKeyInfo.load(cert.public_key)["public_key"].to_coords()
    return int(x), int(y)


def _reference_verify(public: tuple[int, int], message: bytes, r: int, s: int) -> bool:
    if not (0 < r < N and 0 < s < N):
        return False
    t = (r + s) % N
    point = _add(_mul(s, G), _mul(t, public))
    return point is not None and (_e(public, message) + point[0]) % N == r


def test_tongsuo_sm2_signatures_follow_gb_t_32918_with_the_default_id():
    key_pem, cert = simulator_cert("sm2")
    public = _public_point(cert)
    signature = algos.DSASignature.load(pki.sign_message(key_pem, STATEMENT.encode()))
    r, s = int(signature["r"].native), int(signature["s"].native)

    assert _reference_verify(public, STATEMENT.encode(), r, s)
    assert not _reference_verify(public, b"other", r, s)


def test_an_sm2_signature_computed_by_the_standard_verifies():
    key_pem, cert = simulator_cert("sm2")
    info = keys.PrivateKeyInfo.load(pem.unarmor(key_pem)[2])
    d = int(info["private_key"].parsed["private_key"].native)
    public = _public_point(cert)
    assert _mul(d, G) == public
    message = STATEMENT.encode()
    while True:
        k = secrets.randbelow(N - 1) + 1
        x1, _ = _mul(k, G) or (0, 0)
        r = (_e(public, message) + x1) % N
        s = pow(1 + d, -1, N) * (k - r * d) % N
        if r and (r + k) % N and s:
            break
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")

    assert pki.verify_signature(cert, message, raw)
    assert pki.verify_signature(cert, message, algos.DSASignature.from_p1363(raw).dump())
    assert not pki.verify_signature(cert, b"other", raw)


def test_the_builder_makes_a_look_alike_only_with_its_own_key():
    # Guard for the look-alike tests: same subject bytes, different key.
    root = ca_simulator.root("sm2")
    impostor = ExternalCA.create("sm2", x509.Certificate.load(root.der).subject)
    assert (
        x509.Certificate.load(impostor.cert_der).subject == x509.Certificate.load(root.der).subject
    )
    assert pki.load_certificate(impostor.cert_der).public_key != root.public_key
    assert builder.random_serial() != builder.random_serial()


# --- the simulator under concurrent use (PostgreSQL) ----------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_uses_make_one_root_and_revocations_keep_each_other(algorithm):
    roots = run_concurrently(ca_simulator.root, [(algorithm,)] * 4)
    assert all(isinstance(root, pki.CertInfo) for root in roots), roots
    assert len({root.sha256 for root in roots}) == 1
    assert SimulatedAuthority.objects.filter(algorithm=algorithm).count() == 1

    certs = [simulator_cert(algorithm)[1] for _ in range(4)]
    results = run_concurrently(
        ca_simulator.revoke, [(cert.serial_hex, algorithm) for cert in certs]
    )
    assert all(isinstance(result, RevocationList) for result in results), results
    # Each revocation started from the CRL the one before it published.
    assert [refusal(cert) for cert in certs] == ["CERTIFICATE_REVOKED"] * 4


@pytest.mark.parametrize(
    "content",
    ["not json", '{"name": "x"}', '[{"name": "x", "certificate": "missing.pem", "crl": "x.crl"}]'],
    ids=["not-json", "not-a-list", "missing-certificate"],
)
def test_a_broken_trust_file_stops_signatures_instead_of_trusting_less(settings, tmp_path, content):
    path = tmp_path / "trusted-cas.json"
    path.write_text(content, encoding="utf-8")
    settings.SIGNING_TRUSTED_CAS_FILE = str(path)
    with pytest.raises(ImproperlyConfigured):
        pki.trusted_cas()
