"""Shapes of the experts API. Input serializers only parse: every rule (titles, years in the field,
specialty codes, committee composition, who may answer or sign off) is the service's.

A draw has three shapes, by what the reader may see (experts/access.py): the full record for staff and
supervisors (with the exclusions and their reasons for supervisors only), and the public record for
everyone else — hashes and times, and the seated members' names once the committee is disclosed.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization, Role, User
from experts import services
from experts.models import (
    DrawExclusion,
    DrawnExpert,
    DrawRequest,
    Employment,
    Expert,
    Rating,
    Relation,
    Specialty,
)
from experts.rules import EXCLUSION_REASONS
from lib import numbers
from lib.api import EnumChoiceField, serialized_list
from trading.serializers import AwareDateTimeField, OrganizationRefSerializer

MAX_SMALL = 32767


def _enum(choices: type[models.TextChoices], name: str) -> type[EnumChoiceField]:
    """A ChoiceField whose enum is one named schema component (several models have a `status`)."""

    @extend_schema_field({"type": "string", "enum": list(choices.values)}, component_name=name)
    class EnumField(EnumChoiceField):
        allowed = choices.choices

    EnumField.__name__ = EnumField.__qualname__ = f"{name}Field"
    return EnumField


ExpertStatusField = _enum(Expert.Status, "ExpertStatusEnum")
ExpertTitleField = _enum(Expert.Title, "ExpertTitleEnum")
DrawStatusField = _enum(DrawRequest.Status, "DrawStatusEnum")
DrawPanelField = _enum(DrawRequest.Panel, "DrawPanelEnum")
DrawnRoleField = _enum(DrawnExpert.Role, "DrawnRoleEnum")
DrawnResponseField = _enum(DrawnExpert.Response, "DrawnResponseEnum")
TieRoleField = _enum(Employment.Role, "TieRoleEnum")
RelationKindField = _enum(Relation.Kind, "RelationKindEnum")


# --- The pool -------------------------------------------------------------------------------------


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["code", "name"]
        read_only_fields = fields


class TieSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    role = TieRoleField(read_only=True)

    class Meta:
        model = Employment
        fields = ["id", "organization", "role", "start", "end"]
        read_only_fields = fields


class ExpertRelationSerializer(serializers.ModelSerializer):
    organization = OrganizationRefSerializer(read_only=True)
    kind = RelationKindField(read_only=True)

    class Meta:
        model = Relation
        fields = ["id", "organization", "kind", "person_name", "description"]
        read_only_fields = fields


class ExpertSerializer(serializers.ModelSerializer):
    title = ExpertTitleField(read_only=True)
    status = ExpertStatusField(read_only=True)
    employer = OrganizationRefSerializer(read_only=True, allow_null=True)
    specialties = serializers.SerializerMethodField()
    username = serializers.SerializerMethodField()

    class Meta:
        model = Expert
        fields = [
            "id",
            "name",
            "title",
            "years_in_field",
            "region",
            "employer",
            "specialties",
            "status",
            "status_until",
            "status_reason",
            "phone",
            "username",
        ]
        read_only_fields = fields

    def get_specialties(self, expert: Expert) -> list[str]:
        return sorted(s.code for s in expert.specialties.all())

    def get_username(self, expert: Expert) -> str | None:
        return expert.user.username if expert.user is not None else None


class ExpertDetailSerializer(ExpertSerializer):
    ties = TieSerializer(source="employments", many=True, read_only=True)
    relations = ExpertRelationSerializer(many=True, read_only=True)

    class Meta(ExpertSerializer.Meta):
        fields = [*ExpertSerializer.Meta.fields, "ties", "relations"]
        read_only_fields = fields


class ExpertCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    title = serializers.CharField(max_length=12)
    years_in_field = numbers.IntegerField(min_value=0, max_value=MAX_SMALL)
    region = serializers.CharField(max_length=12)
    specialties = serializers.ListField(child=serializers.CharField(max_length=20), min_length=1)
    employer = numbers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True, default=None
    )
    user = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(groups__name=Role.EXPERT, expert__isnull=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="The login of an expert-role user without a pool record yet.",
    )
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class TieCreateSerializer(serializers.Serializer):
    organization = numbers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    role = serializers.CharField(max_length=12)
    start = serializers.DateField()
    end = serializers.DateField(required=False, allow_null=True, default=None)


class RelationCreateSerializer(serializers.Serializer):
    organization = numbers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    kind = serializers.CharField(max_length=10)
    person_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )


class ExpertStatusSerializer(serializers.Serializer):
    status = serializers.CharField(max_length=12)
    until = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Draws ----------------------------------------------------------------------------------------


class QuotaSerializer(serializers.Serializer):
    specialty = serializers.CharField(max_length=20)
    count = numbers.IntegerField(min_value=1, max_value=99)


class DrawCreateSerializer(serializers.Serializer):
    project = numbers.IntegerField(min_value=1)
    lot_number = numbers.IntegerField(
        min_value=1, max_value=MAX_SMALL, required=False, allow_null=True, default=None
    )
    panel = serializers.CharField(max_length=12, default=DrawRequest.Panel.COMMITTEE)
    committee_size = numbers.IntegerField(min_value=1, max_value=99)
    owner_representatives = numbers.IntegerField(min_value=0, max_value=99, default=0)
    quotas = QuotaSerializer(many=True)
    alternates = numbers.IntegerField(min_value=0, max_value=99, default=2)
    allowed_regions = serializers.ListField(
        child=serializers.CharField(max_length=12), required=False, default=list
    )
    excluded_regions = serializers.ListField(
        child=serializers.CharField(max_length=12), required=False, default=list
    )
    evaluation_at = AwareDateTimeField()
    supervisor = numbers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )


class ReplacementSerializer(serializers.Serializer):
    quota = numbers.IntegerField(min_value=0, help_text="Index of the quota with an empty seat.")
    supervisor = numbers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None
    )


class RespondSerializer(serializers.Serializer):
    confirm = serializers.BooleanField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ProjectRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()


class LotRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()


class DrawnExpertRefSerializer(serializers.ModelSerializer):
    title = ExpertTitleField(read_only=True)
    employer = OrganizationRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Expert
        fields = ["id", "name", "title", "region", "employer"]
        read_only_fields = fields


class DrawnSerializer(serializers.ModelSerializer):
    """One drawn expert, in draw order."""

    specialty = serializers.SerializerMethodField()
    role = DrawnRoleField(read_only=True)
    response = DrawnResponseField(read_only=True)
    expert = DrawnExpertRefSerializer(read_only=True)

    class Meta:
        model = DrawnExpert
        fields = [
            "id",
            "quota",
            "specialty",
            "position",
            "role",
            "seated",
            "response",
            "responded_at",
            "decline_reason",
            "expert",
        ]
        read_only_fields = fields

    def get_specialty(self, row: DrawnExpert) -> str:
        return row.specialty


class ExclusionReasonSerializer(serializers.Serializer):
    code = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # `label` is added here, not declared on the class: every DRF field (a serializer too) has an
        # attribute of that name, which a declaration would appear to replace.
        fields = super().get_fields()
        fields["label"] = serializers.CharField()
        return fields


class ExclusionSerializer(serializers.ModelSerializer):
    """Why one expert was left out (supervisors only)."""

    expert = DrawnExpertRefSerializer(read_only=True)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = DrawExclusion
        fields = ["expert", "reasons"]
        read_only_fields = fields

    @extend_schema_field(ExclusionReasonSerializer(many=True))
    def get_reasons(self, exclusion: DrawExclusion) -> list[dict[str, str]]:
        return [
            {"code": code, "label": str(EXCLUSION_REASONS.get(code, code))}
            for code in exclusion.reasons
        ]


class CommitteeMemberSerializer(serializers.Serializer):
    """A disclosed member: the name and the specialty of the seat, nothing personal."""

    name = serializers.CharField(source="expert.name")
    specialty = serializers.SerializerMethodField()

    def get_specialty(self, row: DrawnExpert) -> str:
        return row.specialty


def _project_ref(draw: DrawRequest) -> dict[str, Any]:
    return {"id": draw.project_id, "number": draw.project.number, "title": draw.project.title}


class PublicDrawSerializer(serializers.ModelSerializer):
    """What anyone who may see the draw sees: the commitment, the times, and — once disclosed — the
    seated members' names. The seed appears only after the draw revealed it."""

    project = serializers.SerializerMethodField()
    panel = DrawPanelField(read_only=True)
    status = DrawStatusField(read_only=True)
    seed = serializers.SerializerMethodField()
    members = serializers.SerializerMethodField()

    class Meta:
        model = DrawRequest
        fields = [
            "id",
            "project",
            "replaces_in",
            "panel",
            "committee_size",
            "status",
            "committed_at",
            "request_hash",
            "pool_hash",
            "seed_hash",
            "seed",
            "drawn_at",
            "signed_off_at",
            "disclosed_at",
            "members",
        ]
        read_only_fields = fields

    @extend_schema_field(ProjectRefSerializer)
    def get_project(self, draw: DrawRequest) -> dict[str, Any]:
        return _project_ref(draw)

    def get_seed(self, draw: DrawRequest) -> str | None:
        # Never before the draw: the seed is the one secret the commitment rests on.
        return draw.seed if draw.drawn_at is not None else None

    @extend_schema_field(CommitteeMemberSerializer(many=True, allow_null=True))
    def get_members(self, draw: DrawRequest) -> list[dict[str, Any]] | None:
        request = self.context.get("request")
        if (
            request is None
            or draw.drawn_at is None
            or not services.may_see_identities(request.user, draw)
        ):
            return None
        seated = draw.drawn.filter(seated=True).select_related("expert", "draw")
        return serialized_list(CommitteeMemberSerializer, seated.order_by("quota", "position"))


class DrawSerializer(PublicDrawSerializer):
    """The full record, for staff and supervisors. `exclusions` is present for supervisors only."""

    lot = serializers.SerializerMethodField()
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    supervisor = serializers.CharField(
        source="supervisor.username", read_only=True, allow_null=True, default=None
    )
    quotas = QuotaSerializer(many=True, read_only=True)
    pool = serializers.JSONField(read_only=True)
    exclusion_count = serializers.SerializerMethodField()
    drawn = serializers.SerializerMethodField()
    vacancies = serializers.SerializerMethodField()
    exclusions = serializers.SerializerMethodField()

    class Meta(PublicDrawSerializer.Meta):
        fields = [
            *PublicDrawSerializer.Meta.fields,
            "lot",
            "owner_representatives",
            "quotas",
            "alternates",
            "allowed_regions",
            "excluded_regions",
            "evaluation_at",
            "requested_by",
            "supervisor",
            "pool",
            "exclusion_count",
            "drawn",
            "vacancies",
            "exclusions",
        ]
        read_only_fields = fields
        # Supervisors only (lib.schema.AutoSchema documents it as optional).
        sometimes_absent = ["exclusions"]

    def to_representation(self, draw: DrawRequest) -> dict[str, Any]:
        data = super().to_representation(draw)
        if not self.context.get("supervisor_view"):
            data.pop("exclusions")
        return data

    @extend_schema_field(LotRefSerializer(allow_null=True))
    def get_lot(self, draw: DrawRequest) -> dict[str, Any] | None:
        if draw.lot is None:
            return None
        return {"id": draw.lot_id, "number": draw.lot.number, "name": draw.lot.name}

    def get_exclusion_count(self, draw: DrawRequest) -> int:
        return draw.exclusions.count()

    @extend_schema_field(DrawnSerializer(many=True))
    def get_drawn(self, draw: DrawRequest) -> list[dict[str, Any]]:
        request = self.context.get("request")
        if request is None or not services.may_see_identities(request.user, draw):
            return []
        rows = draw.drawn.select_related("expert", "expert__employer", "draw")
        return serialized_list(DrawnSerializer, rows.order_by("quota", "position"))

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": {"type": "integer"},
            "description": "Empty seats per quota index (after the alternates ran out).",
        }
    )
    def get_vacancies(self, draw: DrawRequest) -> dict[str, int]:
        if draw.drawn_at is None:
            return {}
        return {str(index): count for index, count in services.vacancies(draw).items()}

    @extend_schema_field(ExclusionSerializer(many=True))
    def get_exclusions(self, draw: DrawRequest) -> list[dict[str, Any]]:
        rows = draw.exclusions.select_related("expert", "expert__employer").order_by("expert_id")
        return serialized_list(ExclusionSerializer, rows)


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    command = serializers.CharField(help_text="The operator command that recomputes the draw.")


class SeatSerializer(serializers.ModelSerializer):
    """A drawn expert's own seat: the project and the evaluation time, never the other members."""

    draw = serializers.IntegerField(source="draw_id", read_only=True)
    project = serializers.SerializerMethodField()
    specialty = serializers.SerializerMethodField()
    role = DrawnRoleField(read_only=True)
    response = DrawnResponseField(read_only=True)
    evaluation_at = serializers.DateTimeField(source="draw.evaluation_at", read_only=True)

    class Meta:
        model = DrawnExpert
        fields = [
            "id",
            "draw",
            "project",
            "specialty",
            "role",
            "seated",
            "response",
            "responded_at",
            "decline_reason",
            "evaluation_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ProjectRefSerializer)
    def get_project(self, seat: DrawnExpert) -> dict[str, Any]:
        return _project_ref(seat.draw)

    def get_specialty(self, seat: DrawnExpert) -> str:
        quotas = seat.draw.quotas
        return quotas[seat.quota]["specialty"] if seat.quota < len(quotas) else ""


# --- Ratings --------------------------------------------------------------------------------------


class RatingCreateSerializer(serializers.Serializer):
    expert = numbers.IntegerField(min_value=1)
    project = numbers.IntegerField(min_value=1)
    attended = serializers.BooleanField()
    recusal_complied = serializers.BooleanField()
    grade = numbers.IntegerField(help_text="1 to 5 (the service names a grade outside them).")
    score_deviation_flagged = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RatingSerializer(serializers.ModelSerializer):
    expert = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()
    rated_by = serializers.CharField(source="rated_by.username", read_only=True)

    class Meta:
        model = Rating
        fields = [
            "id",
            "expert",
            "project",
            "attended",
            "recusal_complied",
            "score_deviation_flagged",
            "grade",
            "note",
            "rated_by",
            "rated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(DrawnExpertRefSerializer)
    def get_expert(self, rating: Rating) -> dict[str, Any]:
        return DrawnExpertRefSerializer(rating.expert).data

    @extend_schema_field(ProjectRefSerializer)
    def get_project(self, rating: Rating) -> dict[str, Any]:
        return {
            "id": rating.project_id,
            "number": rating.project.number,
            "title": rating.project.title,
        }
