"""Shapes of the signing API (/api/v1/signing/)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from lib import numbers
from lib.api import EnumChoiceField
from signing.acts import ACTS
from signing.models import Algorithm, Certificate, SignedAct
from signing.pem import certificate_pem


@extend_schema_field(
    {"type": "string", "enum": list(Certificate.Kind.values)}, component_name="CertificateKindEnum"
)
class CertificateKindField(EnumChoiceField):
    allowed = Certificate.Kind.choices


@extend_schema_field(
    {"type": "string", "enum": list(Algorithm.values)}, component_name="SigningAlgorithmEnum"
)
class AlgorithmField(EnumChoiceField):
    allowed = Algorithm.choices


class CertificateSerializer(serializers.ModelSerializer[Certificate]):
    kind = CertificateKindField(read_only=True)
    algorithm = AlgorithmField(read_only=True)
    organization_uscc = serializers.SerializerMethodField()
    pem = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "kind",
            "algorithm",
            "sha256",
            "serial",
            "subject_dn",
            "issuer_dn",
            "not_before",
            "not_after",
            "added_at",
            "withdrawn_at",
            "organization_uscc",
            "pem",
        ]

    def get_organization_uscc(self, obj: Certificate) -> str | None:
        return obj.organization.uscc if obj.organization is not None else None

    def get_pem(self, obj: Certificate) -> str:
        return certificate_pem(bytes(obj.der))


@extend_schema_field({"type": "string", "enum": sorted(ACTS)}, component_name="SigningActEnum")
class ActField(EnumChoiceField):
    allowed = [(name, name) for name in sorted(ACTS)]


class ChallengeRequestSerializer(serializers.Serializer[Any]):
    act = ActField()
    target_type = serializers.CharField(max_length=40)
    target_id = numbers.IntegerField(min_value=1)
    digest = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    details = serializers.DictField(
        child=serializers.CharField(max_length=4000, allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
    )
    certificate = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("要使用的证书的 SHA-256 指纹；不填则使用最新登记的可用证书"),
    )


class SummaryLineSerializer(serializers.Serializer[Any]):
    term = serializers.CharField()
    value = serializers.CharField()


class ChallengeSerializer(serializers.Serializer[Any]):
    challenge = serializers.CharField(
        help_text=_("签名凭证：随签名值一起作为 signing_challenge 提交")
    )
    statement = serializers.CharField(help_text=_("须签名的原文（对其 UTF-8 字节签名）"))
    expires_at = serializers.DateTimeField()
    certificate = CertificateSerializer()
    summary = SummaryLineSerializer(many=True, help_text=_("签署内容的文字说明（当前语言）"))


class CertificateRegisterSerializer(serializers.Serializer[Any]):
    pem = serializers.CharField(max_length=16384, trim_whitespace=False)
    kind = CertificateKindField(required=False)


class SimulatorRequestSerializer(serializers.Serializer[Any]):
    public_key = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text=_("PEM 格式的 SPKI 公钥")
    )
    algorithm = AlgorithmField()


class SimulatorResponseSerializer(serializers.Serializer[Any]):
    certificate = serializers.CharField(help_text=_("模拟 CA 签发的证书（PEM）"))


class SignedActSerializer(serializers.ModelSerializer[SignedAct]):
    act_label = serializers.SerializerMethodField()
    user = serializers.CharField(source="user.username", read_only=True)
    organization_uscc = serializers.SerializerMethodField()
    certificate = CertificateSerializer(read_only=True)

    class Meta:
        model = SignedAct
        fields = [
            "id",
            "act",
            "act_label",
            "target_type",
            "target_id",
            "user",
            "organization_uscc",
            "certificate",
            "statement",
            "statement_sha256",
            "signature",
            "asked_at",
            "verified_at",
        ]

    def get_act_label(self, obj: SignedAct) -> str:
        spec = ACTS.get(obj.act)
        return str(spec.label) if spec else obj.act

    def get_organization_uscc(self, obj: SignedAct) -> str | None:
        return obj.organization.uscc if obj.organization is not None else None


class SignedInputSerializer(serializers.Serializer[Any]):
    """The two fields every signed act's request carries (`signing.services.parse_signed` reads
    them): subclass it, or add its fields, in an act's input serializer."""

    signing_challenge = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=_("签名凭证（POST /api/v1/signing/challenges/ 返回的 challenge）"),
    )
    signature = serializers.CharField(
        max_length=256,
        required=False,
        allow_blank=True,
        help_text=_("对签名原文 UTF-8 字节的签名值（Base64，DER 或 r||s）"),
    )
