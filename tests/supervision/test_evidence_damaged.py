"""verify_evidence on damaged and hostile packages: every case is named on one line and exits 1, never
a traceback; and a package signed with the public development key does not verify silently."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from nacl.signing import SigningKey

from lib.canonical import sha256_hex
from supervision import evidence
from tests.config.test_settings import run_settings
from tests.supervision.test_evidence import rewrite

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore:Duplicate name")]


def members(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def assert_named(problems: list[str]) -> None:
    """At least one problem, each a non-empty line."""
    assert problems, "the damage went unnoticed"
    for problem in problems:
        assert isinstance(problem, str) and problem.strip() and "\n" not in problem, problem


def zip_of(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return out.getvalue()


def header_offsets(data: bytes) -> set[int]:
    """Every byte of the ZIP's own records: local headers, central directory, end record."""
    offsets: set[int] = set()
    for signature, length in ((b"PK\x03\x04", 30 + 16), (b"PK\x01\x02", 46 + 16)):
        start = data.find(signature)
        while start != -1:
            offsets.update(range(start, min(start + length, len(data))))
            start = data.find(signature, start + 1)
    offsets.update(range(max(0, len(data) - 22), len(data)))
    return offsets


# --- The whole archive ---------------------------------------------------------------------------------


def test_a_bit_flipped_anywhere_in_the_archive_is_named_or_changes_no_evidence(package):
    original = members(package)
    rng = random.Random(15)
    stride = max(1, len(package) // 1200)
    offsets = sorted(header_offsets(package) | set(range(0, len(package), stride)))
    for offset in offsets:
        flipped = bytearray(package)
        flipped[offset] ^= 1 << rng.randrange(8)
        problems = evidence.verify(bytes(flipped))
        if problems:
            assert_named(problems)
        else:
            # The flip hit bits that hold no evidence (a timestamp, an attribute, the "made by"
            # version, the padding after a compressed stream): every file reads as signed.
            assert members(bytes(flipped)) == original, offset


def test_a_truncated_package_is_named(package):
    for length in [*range(0, len(package), max(1, len(package) // 60)), len(package) - 1]:
        assert_named(evidence.verify(package[:length]))


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"%PDF-1.7\n", b"\x1f\x8b\x08\x00" + bytes(40), b"PK\x05\x06" + bytes(18)],
    ids=["empty", "text", "pdf", "gzip", "empty-zip"],
)
def test_a_file_that_is_no_package_is_named(data):
    problems = evidence.verify(data)
    assert_named(problems)


def test_random_bytes_are_named():
    rng = random.Random(4)
    for _ in range(50):
        assert_named(evidence.verify(rng.randbytes(rng.randrange(1, 4000))))


# --- Inside the files ----------------------------------------------------------------------------------


def test_a_bit_flipped_inside_any_file_is_named_after_that_file_or_the_signature(package):
    rng = random.Random(7)
    for name, content in members(package).items():
        for _ in range(12):
            offset = rng.randrange(len(content))
            flipped = bytearray(content)
            flipped[offset] ^= 1 << rng.randrange(8)
            problems = evidence.verify(rewrite(package, name, lambda _c, f=bytes(flipped): f))
            assert_named(problems)
            if name == evidence.SIGNATURE:
                assert any("signature" in p for p in problems), problems
            elif name != evidence.MANIFEST:
                assert any(p.startswith(f"{name}:") for p in problems), problems


def test_a_signature_written_otherwise_is_a_change_even_decoding_to_the_same_bytes(package):
    for change in (bytes.upper, lambda sig: sig + b"\n", lambda sig: b" " + sig):
        problems = evidence.verify(rewrite(package, evidence.SIGNATURE, change))
        assert problems == ["manifest.sig: not a signature (128 lowercase hexadecimal characters)"]


def test_a_manifest_that_is_not_the_expected_json_is_named_even_when_signed(package):
    """A forger signing with their own key (given with --public-key) can write any manifest."""
    forger = SigningKey.generate()
    key = forger.verify_key.encode().hex()
    for manifest in (b"\xff\xfe", b"[" * 100_000, b"[]", b'{"files": []}', b'{"files": {"a": 1}}'):
        signed = rewrite(package, evidence.MANIFEST, lambda _c, m=manifest: m)
        signed = rewrite(
            signed,
            evidence.SIGNATURE,
            lambda _c, m=manifest: forger.sign(m).signature.hex().encode(),
        )
        assert_named(evidence.verify(signed, public_key=key))


def test_documents_of_another_shape_are_named_not_crashed_on(package):
    forger = SigningKey.generate()
    key = forger.verify_key.encode().hex()
    for name, content in ((b"audit.json", b'[{"seq": "x"}]'), (b"draws.json", b'[{"draw": 1}]')):
        member = name.decode()
        changed = rewrite(package, member, lambda _c, c=content: c)

        def rehash(raw: bytes, member=member, content=content) -> bytes:
            import json

            manifest = json.loads(raw)
            manifest["files"][member] = sha256_hex(content)
            return evidence._json(manifest)

        changed = rewrite(changed, evidence.MANIFEST, rehash)
        manifest = members(changed)[evidence.MANIFEST]
        changed = rewrite(
            changed,
            evidence.SIGNATURE,
            lambda _c, m=manifest: forger.sign(m).signature.hex().encode(),
        )
        problems = evidence.verify(changed, public_key=key)
        assert_named(problems)
        assert any(p.startswith(f"{member}: not the expected structure") for p in problems), (
            problems
        )


# --- Hostile archives ----------------------------------------------------------------------------------


def test_a_member_inflating_beyond_the_bound_is_refused_without_reading_it_all(
    package, monkeypatch
):
    monkeypatch.setattr(evidence, "MAX_MEMBER_BYTES", 1024 * 1024)
    bomb = zip_of([*members(package).items(), ("bomb.json", bytes(2 * 1024 * 1024))])
    problems = evidence.verify(bomb)
    assert problems == [f"'bomb.json': declares {2 * 1024 * 1024} bytes, at most {1024 * 1024}"]
    # The same member declaring a small size: reading stops at the bound anyway.
    lying = bytearray(bomb)
    central = lying.rfind(b"PK\x01\x02", 0, lying.rfind(b"bomb.json"))
    assert lying[central + 46 : central + 55] == b"bomb.json"
    lying[central + 24 : central + 28] = struct.pack("<I", 100)
    assert_named(evidence.verify(bytes(lying)))


def test_a_member_declaring_a_huge_size_is_refused_before_reading(package):
    huge = bytearray(package)
    central = huge.find(b"PK\x01\x02")
    huge[central + 24 : central + 28] = struct.pack("<I", 0xFFFFFFF0)
    problems = evidence.verify(bytes(huge))
    assert len(problems) == 1 and "declares 4294967280 bytes" in problems[0]


def test_a_name_twice_is_refused(package):
    entries = list(members(package).items())
    twice = zip_of([*entries, ("audit.json", b"[]")])
    assert evidence.verify(twice) == ["'audit.json': appears twice in the archive"]


@pytest.mark.parametrize(
    "name",
    [
        "../audit.json",
        "/etc/passwd",
        "sub/audit.json",
        "signatures/../audit.json",
        "signatures/sub/x.json",
        "certificates/",
        "..",
        "C:\\x.json",
        "a\x1b[2Jb",
    ],
)
def test_a_name_that_is_no_plain_file_name_is_refused(package, name):
    hostile = zip_of([*members(package).items(), (name, b"{}")])
    problems = evidence.verify(hostile)
    assert len(problems) == 1 and "not a plain file name" in problems[0], problems
    assert "\x1b" not in problems[0]


def test_too_many_files_are_refused(monkeypatch):
    # The bound is high (one file per signed act, certificate, CA and CRL); lowered here so the
    # test archive stays small.
    monkeypatch.setattr(evidence, "MAX_MEMBERS", 32)
    problems = evidence.verify(zip_of([(f"f{i}.json", b"{}") for i in range(100)]))
    assert problems == ["100 files in the archive, at most 32 expected"]


# --- The command ---------------------------------------------------------------------------------------


def damaged_packages(package: bytes) -> dict[str, bytes]:
    flipped = bytearray(package)
    flipped[len(package) // 2] ^= 0x10
    return {
        "not-a-zip": b"this is not a zip",
        "truncated": package[: len(package) // 3],
        "flipped": bytes(flipped),
        "twice": zip_of([*members(package).items(), ("bids.json", b"[]")]),
        "traversal": zip_of([*members(package).items(), ("../../etc/cron.d/x", b"")]),
    }


def test_the_command_names_each_damage_on_one_line_and_exits_1(package, tmp_path, capsys):
    for label, data in damaged_packages(package).items():
        path = tmp_path / f"{label}.zip"
        path.write_bytes(data)
        with pytest.raises(SystemExit) as failed:
            call_command("verify_evidence", str(path))
        assert failed.value.code == 1, label
        err = capsys.readouterr().err
        lines = err.splitlines()
        assert lines and all(line.startswith("FAILED: ") for line in lines), (label, err)
        assert "Traceback" not in err


def test_the_command_as_a_process_prints_one_line_without_a_traceback(package, tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(package[: len(package) // 2])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_evidence", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("FAILED: not a readable ZIP archive")
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_the_command_refuses_a_malformed_public_key_in_one_line(package, tmp_path, capsys):
    path = tmp_path / "evidence.zip"
    path.write_bytes(package)
    for key in ("zz", "ab" * 31, "ab" * 33):
        with pytest.raises(SystemExit) as failed:
            call_command("verify_evidence", str(path), "--public-key", key)
        assert failed.value.code == 2
        assert capsys.readouterr().err.startswith("FAILED: --public-key:")


# --- The development key -------------------------------------------------------------------------------


@pytest.fixture
def dev_signed(settings, agent, staff) -> bytes:
    from tests.bidding.auction_world import make_world

    settings.EVIDENCE_SIGNING_KEY = settings.EVIDENCE_DEV_SIGNING_KEY
    return evidence.build(make_world(agent, staff).project)


def test_a_package_signed_with_the_development_key_does_not_verify_silently(
    dev_signed, tmp_path, capsys
):
    problems = evidence.verify(dev_signed)
    assert len(problems) == 1 and "development key" in problems[0]
    assert evidence.verify(dev_signed, allow_dev_key=True) == []
    path = tmp_path / "dev.zip"
    path.write_bytes(dev_signed)
    with pytest.raises(SystemExit) as failed:
        call_command("verify_evidence", str(path))
    assert failed.value.code == 1
    assert "development key" in capsys.readouterr().err
    call_command("verify_evidence", str(path), "--allow-dev-key")
    out = capsys.readouterr()
    assert "evidence package OK" in out.out
    assert "WARNING: verified with the development key" in out.err
    # Pinned to the platform's real key, the package fails, and says what signed it.
    problems = evidence.verify(
        dev_signed, public_key=SigningKey.generate().verify_key.encode().hex()
    )
    assert problems == [
        "the manifest's signature does not verify with the platform's public key "
        "(the package says it was signed with the development key)"
    ]


def test_export_warns_when_it_signs_with_the_development_key(dev_signed, tmp_path, capsys):
    from trading.models import Project

    call_command("export_evidence", Project.objects.get().number, "-o", str(tmp_path / "e.zip"))
    assert "WARNING: signed with the development key" in capsys.readouterr().err


def test_production_refuses_the_development_key_even_given_explicitly(tmp_path):
    """With DEBUG off the settings refuse to load (so neither export_evidence nor the evidence
    download can sign), also when someone copied the development value into the environment."""
    real = {
        "DEBUG": "0",
        "SECRET_KEY": "a-real-secret-from-the-vault-" + "x" * 30,
        "DEPOSIT_BANK_SECRETS": "ICBC:a-real-bank-secret",
        "BID_MASTER_KEY": "11" * 32,
    }
    dev = django_settings.EVIDENCE_DEV_SIGNING_KEY
    for given in ({"EVIDENCE_SIGNING_KEY": dev}, {"EVIDENCE_SIGNING_KEY": dev.upper()}):
        result = run_settings(**real, **given)
        assert result.returncode != 0
        assert "EVIDENCE_SIGNING_KEY" in result.stderr
    key_file = tmp_path / "key"
    key_file.write_text(dev + "\n")
    result = run_settings(**real, EVIDENCE_SIGNING_KEY_FILE=str(key_file))
    assert result.returncode != 0 and "EVIDENCE_SIGNING_KEY" in result.stderr


def test_the_project_page_command_says_when_the_installation_signs_with_the_development_key(
    dev_signed, settings
):
    from supervision.views import _verify_command
    from trading.models import Project

    project = Project.objects.get()
    assert _verify_command(project).endswith("--allow-dev-key")
    settings.EVIDENCE_SIGNING_KEY = "5e" * 32
    assert _verify_command(project).endswith(f"--public-key {evidence.public_key_hex()}")
