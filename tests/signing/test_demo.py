"""Demo certificates: every demo user can sign from the first `make run`, and seeding again adds nothing."""

from __future__ import annotations

import io

import pytest

from accounts import demo as accounts_demo
from accounts.actors import Actor
from accounts.models import User
from signing import demo, services
from signing.models import Certificate, SignedAct


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SIGNING_PASSWORD_FALLBACK = []
    accounts_demo.seed(io.StringIO())
    demo.seed(io.StringIO())


@pytest.mark.django_db
def test_every_demo_user_holds_a_certificate_and_its_key(seeded, tmp_path):
    for username, *_ in accounts_demo.USERS:
        user = User.objects.get(username=username)
        key = demo.key_path(username)
        assert key.parent == tmp_path / "demo-keys"
        assert key.stat().st_mode & 0o077 == 0, "a demo key is readable by its owner only"
        fingerprint = demo.demo_certificate(user, key.read_bytes())
        assert fingerprint is not None, username
        certificate = Certificate.objects.get(sha256=fingerprint)
        assert certificate.algorithm == ("sm2" if username in demo.SM2_USERS else "p256")


@pytest.mark.django_db
def test_seeding_again_issues_nothing(seeded):
    before = Certificate.objects.count()
    demo.seed(io.StringIO())
    assert Certificate.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["supplier", "supplier2", "expert"])
def test_a_demo_user_signs_like_a_client(seeded, username):
    user = User.objects.get(username=username)
    fingerprint = demo.demo_certificate(user, demo.key_path(username).read_bytes())
    certificate = Certificate.objects.get(sha256=fingerprint)
    signed = demo.sign_as(user, "certificate.test", "signing.certificate", certificate.pk)
    signed_act = services.self_test_signature(Actor.for_user(user), certificate, signed)
    assert SignedAct.objects.filter(pk=signed_act.pk, user=user).exists()
