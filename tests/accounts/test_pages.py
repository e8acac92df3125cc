"""Login, logout, the role-aware home page and the language switch."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_public_home_page_invites_to_log_in(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "公共资源交易平台" in html
    assert 'href="/accounts/login/"' in html
    assert 'name="viewport"' in html


def test_login_and_logout(client, supplier):
    response = client.post("/accounts/login/", {"username": "supplier", "password": PASSWORD})
    assert response.status_code == 302
    home = client.get("/").content.decode()
    assert "甲建设公司" in home
    assert "投标人/竞买人" in home
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_refused_with_a_message(client, supplier):
    response = client.post("/accounts/login/", {"username": "supplier", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("staff", "机构与诚信"),
        ("supervisor", "审计链"),
        ("agent", "我的项目"),
        ("supplier", "诚信状态"),
        ("expert", "我的评标任务"),
    ],
)
def test_the_home_page_shows_what_each_role_works_on(client, request, persona, expected):
    client.force_login(request.getfixturevalue(persona))
    assert expected in client.get("/").content.decode()


def test_a_barred_supplier_sees_why_on_its_home_page(client, staff, supplier):
    import datetime as dt

    from accounts import services
    from accounts.actors import Actor

    services.bar_organization(
        Actor.for_user(staff),
        supplier.organization,
        category="bad_conduct",
        source="regulator",
        reason="串通投标",
        barred_from=dt.date(2026, 1, 1),
        barred_until=None,
    )
    client.force_login(supplier)
    html = client.get("/").content.decode()
    assert "本机构当前被限制参与交易" in html
    assert "串通投标" in html


def test_only_staff_reach_the_admin(client, staff, supplier):
    client.force_login(supplier)
    assert client.get("/admin/").status_code == 302  # sent to the admin login
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_the_language_switch_remembers_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
