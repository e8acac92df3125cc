"""The edge of HTTP (lib/edge.py): unsafe text is refused once for every entry point, ids that no
bigint can hold are 404s, and under /api/ every error is the JSON error shape — on SQLite and on
PostgreSQL (where NUL used to reach the database and answer 500)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from lib.edge import MAX_ID
from tests.trading.factories import draft

pytestmark = pytest.mark.django_db

NUL = "\x00"
SURROGATE = "\ud800"


def assert_refused(response, field: str | None = None) -> None:
    assert response.status_code == 400, response.content[:300]
    if response["Content-Type"].startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] == "TEXT_INVALID_CHAR"
        assert "U+0000" in error["message"] or "U+D800" in error["message"]
        if field is not None:
            assert error["details"]["field"] == field
    else:
        assert b'data-code="TEXT_INVALID_CHAR"' in response.content


_SCHEMA: dict = {}


def openapi_schema() -> dict:
    if not _SCHEMA:
        from drf_spectacular.generators import SchemaGenerator

        _SCHEMA.update(_nullable(json.loads(json.dumps(SchemaGenerator().get_schema(public=True)))))
    return _SCHEMA


def _nullable(node):
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [..., "null"]`), for jsonschema."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def assert_matches_schema(response, path: str, method: str) -> None:
    """The response's status is documented for the operation and its JSON body matches that
    response's schema (what schemathesis checks, for one answer)."""
    import jsonschema

    schema = openapi_schema()
    responses = schema["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, (path, method, status, sorted(responses))
    body_schema = responses[status]["content"]["application/json"]["schema"]
    resolver_root = {"components": schema["components"], **body_schema}
    jsonschema.validate(response.json(), resolver_root)


def json_body(data: dict) -> str:
    # ensure_ascii: a lone surrogate travels as the escape "\ud800", as JSON clients send it.
    return json.dumps(data, ensure_ascii=True)


# One search box or filter (query string), one JSON field and one form field per app. The edge
# refuses them before any view runs, so the objects need not exist.
SEARCH_BOXES = [
    ("accounts", "/organizations/", "q"),
    ("trading", "/portal/", "q"),
    ("audit", "/supervision/audit/", "actor"),
    ("deposits", "/deposits/custody/", "q"),
    ("experts", "/experts/", "q"),
    ("bidding", "/bidding/", "page"),
]
API_FILTERS = [
    ("accounts", "/api/v1/organizations/", "kind"),
    ("trading", "/api/v1/announcements/", "q"),
    ("audit", "/api/v1/audit/events/", "action"),
    ("deposits", "/api/v1/deposits/deposits/", "status"),
    ("experts", "/api/v1/experts/pool/", "q"),
    ("bidding", "/api/v1/bidding/land-listings/", "status"),
]
JSON_FIELDS = [
    ("accounts", "/api/v1/organizations/", "name"),
    ("trading", "/api/v1/projects/", "title"),
    ("audit", "/api/v1/alerts/1/handle/", "note"),
    ("deposits", "/api/v1/deposits/fx-rates/", "currency"),
    ("experts", "/api/v1/experts/pool/", "name"),
    ("bidding", "/api/v1/bidding/auctions/1/bids/", "key"),
]
FORM_FIELDS = [
    ("accounts", "/accounts/login/", "username"),
    ("trading", "/projects/new/", "title"),
    ("audit", "/supervision/alerts/1/handle/", "note"),
    ("deposits", "/deposits/custody/fx/", "currency"),
    ("experts", "/experts/new/", "name"),
    ("bidding", "/bidding/lots/1/bid/withdraw/", "reason"),
]


@pytest.mark.parametrize(("app", "url", "name"), SEARCH_BOXES)
def test_a_page_search_box_refuses_nul(client, staff, app, url, name):
    client.force_login(staff)
    assert_refused(client.get(url, {name: f"a{NUL}b"}))


@pytest.mark.parametrize(("app", "url", "name"), API_FILTERS)
def test_an_api_filter_refuses_nul(api, staff, app, url, name):
    assert_refused(api(staff).get(url, {name: f"a{NUL}b"}), name)


@pytest.mark.parametrize(("app", "url", "name"), SEARCH_BOXES + API_FILTERS)
def test_a_lone_surrogate_in_a_query_becomes_a_replacement_character(client, staff, app, url, name):
    """A surrogate has no UTF-8 form: sent as its 3-byte pattern, Django decodes it to U+FFFD, which
    is ordinary text; whatever the view answers, it is not a server error."""
    client.force_login(staff)
    response = client.get(f"{url}?{name}=a%ED%A0%80b")
    assert response.status_code < 500


@pytest.mark.parametrize("char", [NUL, SURROGATE])
@pytest.mark.parametrize(("app", "url", "name"), JSON_FIELDS)
def test_a_json_field_refuses_nul_and_lone_surrogates(api, staff, app, url, name, char):
    body = json_body({name: f"a{char}b"})
    response = api(staff).post(url, body, content_type="application/json")
    assert_refused(response, name)


@pytest.mark.parametrize(("app", "url", "name"), FORM_FIELDS)
def test_a_form_field_refuses_nul(client, staff, app, url, name):
    """A browser's form post (urlencoded): refused before the view, whoever posts it."""
    client.force_login(staff)
    body = urlencode({name: f"a{NUL}b", "other": "fine"})
    assert_refused(client.post(url, body, content_type="application/x-www-form-urlencoded"))


@pytest.mark.parametrize(("app", "url", "name"), FORM_FIELDS)
def test_invalid_utf8_in_a_form_field_is_not_a_server_error(client, staff, app, url, name):
    client.force_login(staff)
    body = f"{name}=a%FFb%ED%A0%80c"
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500


def test_unsafe_text_in_json_keys_and_nested_values_is_found():
    client = APIClient()
    for body, field in [
        ({"lots": [{"name": f"x{NUL}"}]}, "lots[0].name"),
        ({f"bad{SURROGATE}key": 1}, "bad\ufffdkey"),
    ]:
        response = client.post(
            "/api/v1/projects/", json_body(body), content_type="application/json"
        )
        assert_refused(response, field)


def test_the_path_and_cookies_are_checked(api, staff):
    assert_refused(api(staff).get("/api/v1/ocds/a%00b/"))
    client = APIClient()
    client.cookies["sessionid"] = f"abc{NUL}def"
    assert_refused(client.get("/api/v1/announcements/"), "sessionid")


def test_a_field_name_is_checked_like_its_value(api, staff):
    assert_refused(api(staff).get("/api/v1/announcements/", {f"q{NUL}": "x"}))


def test_refusals_follow_the_readers_language(client):
    english = client.get("/portal/", {"q": NUL}, HTTP_ACCEPT_LANGUAGE="en")
    assert b"control or invalid character U+0000" in english.content
    chinese = APIClient().get("/api/v1/announcements/", {"q": NUL})
    assert "不允许的控制字符" in chinese.json()["error"]["message"]


def test_clean_text_passes(api, staff):
    response = api(staff).get("/api/v1/announcements/", {"q": "珠海 tab\tok"})
    assert response.status_code == 200


# --- Multipart: checked when the view parses it ---------------------------------------------------


def test_multipart_fields_are_refused_when_the_api_parses_them(api, agent):
    project = draft(agent)
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/documents/",
        {"title": f"plan{NUL}", "file": upload},
        format="multipart",
    )
    assert_refused(response, "title")
    assert not project.documents.exists()


def test_multipart_file_names_are_refused_too(api, agent):
    project = draft(agent)
    upload = SimpleUploadedFile(f"plan{NUL}.pdf", b"%PDF-1.4", content_type="application/pdf")
    response = api(agent).post(
        f"/api/v1/projects/{project.pk}/documents/",
        {"title": "plan", "file": upload},
        format="multipart",
    )
    # Django's parser already drops what precedes a NUL in a file name; nothing unsafe is stored.
    assert response.status_code in (201, 400)
    assert all(NUL not in d.file.name for d in project.documents.all())


def test_multipart_fields_are_refused_when_a_page_parses_them(client, agent):
    project = draft(agent)
    client.force_login(agent)
    upload = SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan", content_type="application/pdf")
    response = client.post(
        f"/projects/{project.pk}/documents/", {"title": f"plan{NUL}", "file": upload}
    )
    assert_refused(response)
    assert not project.documents.exists()


def test_a_multipart_body_is_not_read_before_the_permission_check(api, supplier, agent):
    """Whoever may not upload gets 404/403 whatever the body holds: the body was never parsed."""
    project = draft(agent)
    upload = SimpleUploadedFile("x.pdf", b"%PDF", content_type="application/pdf")
    response = api(supplier).post(
        f"/api/v1/projects/{project.pk}/documents/",
        {"title": f"x{NUL}", "file": upload},
        format="multipart",
    )
    # A supplier may never upload tender documents: refused by role before the body is parsed.
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_the_token_view_checks_multipart_fields(client):
    response = client.post("/api/v1/auth/token/", {"username": f"a{NUL}", "password": "x"})
    assert_refused(response)


# --- Ids, pages, error shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "pk", [str(MAX_ID + 1), "99999999999999999999", "abc", "-1", "1.5", "١٢", "null%2Cnull"]
)
def test_an_id_no_bigint_holds_is_a_404(api, staff, pk):
    for url in (f"/api/v1/projects/{pk}/", f"/api/v1/bidding/lots/{pk}/land-listing/"):
        response = api(staff).get(url)
        assert response.status_code == 404, (url, response.content)
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_largest_id_is_looked_up_and_not_found(api, staff, client):
    assert api(staff).get(f"/api/v1/projects/{MAX_ID}/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/projects/{MAX_ID}/").status_code == 404


def test_an_absurd_page_size_or_offset_is_bounded(api, staff):
    for query in ({"limit": "9" * 30}, {"offset": "9" * 30}, {"limit": "-5"}, {"limit": "x"}):
        response = api(staff).get("/api/v1/announcements/", query)
        assert response.status_code == 200, (query, response.content)


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
def test_unknown_api_paths_answer_json_for_every_method(method):
    # POST without a CSRF token too: an unknown path is a 404, not a CSRF failure page.
    client = Client(enforce_csrf_checks=True)
    for url in ("/api/v1/no-such-thing/", "/api/v1/projects/x\n/", "/api/v2/anything/"):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (url, response.content)
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_csrf_failure_under_the_api_answers_json(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    response = client.post(
        "/api/v1/organizations/", json_body({"name": "x"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


def test_too_many_fields_answer_json(api, staff, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = api(staff).get("/api/v1/announcements/?" + "&".join(f"f{i}=1" for i in range(10)))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_REQUEST"


def test_a_body_over_the_memory_limit_answers_json(api, staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api(staff).post(
        "/api/v1/organizations/", json_body({"name": "x" * 200}), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_json_nested_beyond_recursion_is_malformed_not_a_crash(api, staff):
    body = "[" * 100_000 + "]" * 100_000
    response = api(staff).post("/api/v1/organizations/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_REQUEST"


def test_json_too_deep_to_check_is_refused_not_passed_on(api, staff):
    """Deep enough to parse but not to walk: refused, never handed to the view unchecked."""
    import sys

    depth = sys.getrecursionlimit() - 30
    body = "[" * depth + json_body(f"a{NUL}") + "]" * depth
    response = api(staff).post("/api/v1/organizations/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("MALFORMED_REQUEST", "TEXT_INVALID_CHAR")


@pytest.mark.parametrize("charset", ["rot13", "utf-16", "no-such-charset"])
def test_a_json_charset_that_does_not_decode_is_malformed_not_a_crash(api, staff, charset):
    response = api(staff).post(
        "/api/v1/organizations/",
        b'{"name": "x"}',
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("MALFORMED_REQUEST", "VALIDATION_ERROR")


def test_invalid_utf8_in_a_json_body_is_malformed(api, staff):
    response = api(staff).post(
        "/api/v1/organizations/", b'{"name": "a\xffb"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_REQUEST"


def test_a_draw_without_exclusions_matches_the_schema():
    """`exclusions` goes to supervisors only: the schema does not require it."""
    draw = openapi_schema()["components"]["schemas"]["Draw"]
    assert "exclusions" in draw["properties"]
    assert "exclusions" not in draw["required"]


def test_every_operation_documents_the_error_shape():
    for path, item in openapi_schema()["paths"].items():
        for method, operation in item.items():
            for status in ("400", "401", "403", "404", "409", "429"):
                answer = operation["responses"][status]
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error", (path, method, status)


def test_an_invalid_choice_in_a_list_filter_is_a_400(api, staff):
    response = api(staff).get("/api/v1/organizations/", {"kind": "alien"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_PARAMETER"


def test_the_csrf_failure_view_answers_json_under_the_api_and_a_page_elsewhere(rf):
    from lib.edge import csrf_failure

    api_answer = csrf_failure(rf.post("/api/v1/anything/"), reason="no token")
    assert api_answer.status_code == 403
    assert json.loads(api_answer.content)["error"]["code"] == "CSRF_FAILED"
    page_answer = csrf_failure(rf.post("/projects/new/"), reason="no token")
    assert page_answer.status_code == 403
    assert page_answer["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    "query",
    [
        {"organization": "99999999999999999999"},
        {"organization": "١٢"},
        {"since": "2026-13-45T00:00"},
        {"until": "2026-02-30T09:00:00+08:00"},
    ],
)
def test_the_audit_search_refuses_numbers_and_times_that_cannot_exist(
    api, client, supervisor, query
):
    """The API and the supervisors' search page share `supervision.search.search_events`."""
    response = api(supervisor).get("/api/v1/audit/events/", query)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("INVALID_PARAMETER", "INVALID_TIME")
    client.force_login(supervisor)
    assert client.get("/supervision/audit/", query).status_code < 500
