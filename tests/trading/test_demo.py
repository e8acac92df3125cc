from __future__ import annotations

import pytest
from django.core.management import call_command

from trading.models import Announcement, Project

pytestmark = pytest.mark.django_db


def test_the_demo_has_projects_in_every_stage():
    call_command("seed_demo")
    assert set(Project.objects.values_list("status", flat=True)) == set(Project.Status.values)
    amended = Project.objects.get(title__startswith="珠海市第一中学")
    assert Announcement.objects.filter(project=amended, kind="amendment").exists()
    assert Announcement.objects.get(project=amended, kind="tender").version_count == 2
