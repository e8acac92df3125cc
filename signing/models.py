"""Certificates, signing challenges, signed acts and revocation lists (电子签名).

A binding act (submitting a bid, confirming an opening record, signing a report…) is signed by the
acting person over a canonical statement the platform composed when they asked (`SigningChallenge`):
what they do, on which object, the hash of any document, and the server time. The platform verifies
the signature against the person's certificate before it acts and keeps the proof (`SignedAct`) beside
the act and in the audit event. Certificates come from a CA the center trusts (configuration), are
checked for validity, key usage and revocation at every signature (`RevocationList`, one per CA).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Organization


class Algorithm(models.TextChoices):
    # SM2 with SM3 (GB/T 32918, GB/T 35276), as Chinese CAs issue; ECDSA P-256 with SHA-256.
    SM2 = "sm2", "SM2"
    P256 = "p256", "ECDSA P-256"


class Certificate(models.Model):
    """An X.509 certificate a party registered on the platform (the key stays with its holder)."""

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", _("机构证书")
        PERSON = "person", _("个人证书")
        # A bank's or guarantor's certificate: it signs electronic guarantees (电子保函).
        ISSUER = "issuer", _("保函出具机构证书")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    algorithm = models.CharField(_("算法"), max_length=8, choices=Algorithm.choices)
    # The person who holds the key (an organization's certificate sits on one operator's token).
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="certificates",
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="certificates"
    )
    der = models.BinaryField(_("证书（DER）"))
    sha256 = models.CharField(_("指纹 SHA-256"), max_length=64, unique=True)
    serial = models.CharField(_("序列号（十六进制）"), max_length=64)
    subject_dn = models.CharField(_("主题"), max_length=500)
    issuer_dn = models.CharField(_("颁发者"), max_length=500)
    # Fingerprint of the trusted CA certificate that issued it.
    issuer_sha256 = models.CharField(_("颁发者证书指纹"), max_length=64)
    not_before = models.DateTimeField(_("生效时间"))
    not_after = models.DateTimeField(_("失效时间"))
    added_at = models.DateTimeField(_("登记时间"))
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The holder (or staff) took it out of use on the platform; revocation itself is the CA's CRL.
    withdrawn_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "数字证书")
        verbose_name_plural = _("数字证书")
        ordering = ["-added_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject_dn} ({self.serial})"


class SigningChallenge(models.Model):
    """The statement the platform composed for one act, at the moment the signer asked for it.

    It binds signer, certificate, act, object, digest and server time; it is used at most once and
    expires after `SIGNING_CHALLENGE_SECONDS`.
    """

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")
    act = models.CharField(max_length=40)
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField()
    digest = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # The exact canonical JSON text the signer signs (UTF-8 bytes of this text).
    statement = models.TextField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "issued_at"])]

    def __str__(self) -> str:
        return f"{self.act} {self.target_type}:{self.target_id}"


class SignedAct(models.Model):
    """Proof that a person signed one act: kept with the act, referenced from its audit event."""

    challenge = models.OneToOneField(SigningChallenge, on_delete=models.PROTECT, related_name="+")
    act = models.CharField(_("行为"), max_length=40)
    target_type = models.CharField(_("对象类型"), max_length=40)
    target_id = models.BigIntegerField(_("对象编号"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="acts")
    statement = models.TextField(_("签名原文"))
    statement_sha256 = models.CharField(max_length=64)
    signature = models.TextField(_("签名值（Base64）"))
    # The server time the signer asked for the statement (it is in the statement) and the
    # time the platform verified the signature and acted.
    asked_at = models.DateTimeField(_("申请签名时间"))
    verified_at = models.DateTimeField(_("验签时间"))

    class Meta:
        verbose_name = pgettext_lazy("singular", "电子签名记录")
        verbose_name_plural = _("电子签名记录")
        ordering = ["id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.act} {self.target_type}:{self.target_id}"


class RevocationList(models.Model):
    """A CRL a trusted CA published, as fetched and verified (the newest per CA is consulted)."""

    ca_sha256 = models.CharField(max_length=64)
    der = models.BinaryField()
    sha256 = models.CharField(max_length=64, unique=True)
    number = models.CharField(max_length=64, blank=True)
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(null=True, blank=True)
    fetched_at = models.DateTimeField()
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-this_update", "-id"]
        indexes = [models.Index(fields=["ca_sha256", "-this_update"])]

    def __str__(self) -> str:
        return f"CRL {self.ca_sha256[:12]} {self.this_update:%Y-%m-%d}"


class SimulatedAuthority(models.Model):
    """The CA simulator's own root (development and demo only; off in production).

    Kept in the database so certificates it issued stay verifiable across restarts.
    """

    algorithm = models.CharField(max_length=8, choices=Algorithm.choices)
    # "parties" issues to organizations, people and experts; "issuer" to simulated banks and
    # guarantors that sign electronic guarantees.
    purpose = models.CharField(max_length=16, default="parties")
    key_pem = models.TextField()
    certificate_der = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["algorithm", "purpose"], name="one_simulated_root")
        ]

    def __str__(self) -> str:
        return f"simulated CA {self.algorithm}"
