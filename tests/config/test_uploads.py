"""Request bodies are capped and uploads refused by role before anything reads them (lib/uploads.py).

A read-only supervisor's upload is refused 403 with the multipart parser never run — on the API (by
session or token) and on the pages, ahead of the CSRF check that would parse a form for its token —
and a body over its route's cap is answered 413 from its Content-Length (or its counted length)
before the application reads it. The last test serves a real daphne process and checks what a large
refused upload costs its memory.
"""

from __future__ import annotations

import json
import multiprocessing
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from rest_framework.authtoken.models import Token

from lib.uploads import RequestBodyLimit
from tests.bidding.auction_world import make_world

MIB = 1024 * 1024
BOUNDARY = "upload-test-boundary"


class RecordingUploadHandler(FileUploadHandler):
    """Counts the file bytes Django's multipart parser hands to upload handlers."""

    received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        RecordingUploadHandler.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@pytest.fixture
def recorded(settings):
    RecordingUploadHandler.received = 0
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.config.test_uploads.RecordingUploadHandler",
        *settings.FILE_UPLOAD_HANDLERS,
    ]
    return RecordingUploadHandler


def multipart(size: int) -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="price"\r\n\r\n1000000.00\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="decryption_code"\r\n\r\nupload-test-code\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="files"; filename="bid.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + b"%PDF"
        + b"x" * (size - 4)
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


# --- The role, before the body ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_supervisors_api_upload_is_refused_before_its_body_is_parsed(supervisor, recorded):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    response = client.post(
        "/api/v1/bidding/lots/1/bids/", data=multipart(MIB), content_type=CONTENT_TYPE
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert recorded.received == 0


@pytest.mark.django_db
def test_a_supervisors_token_upload_is_refused_before_its_body_is_parsed(supervisor, recorded):
    token = Token.objects.create(user=supervisor)
    response = Client().post(
        "/api/v1/bidding/lots/1/bids/",
        data=multipart(MIB),
        content_type=CONTENT_TYPE,
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert recorded.received == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/bidding/lots/1/bid/",  # a bid's files
        "/projects/1/documents/",  # tender documents
        "/deposits/lots/1/guarantee/",  # a guarantee's file
        "/deposits/custody/statements/",  # a bank statement
    ],
)
def test_a_supervisors_page_upload_is_refused_before_the_csrf_check_reads_it(
    supervisor, recorded, url
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    response = client.post(url, data=multipart(MIB), content_type=CONTENT_TYPE)
    assert response.status_code == 403
    assert recorded.received == 0


@pytest.mark.django_db
def test_an_anonymous_page_upload_is_sent_to_log_in_unread(recorded):
    response = Client(enforce_csrf_checks=True).post(
        "/bidding/lots/1/bid/", data=multipart(MIB), content_type=CONTENT_TYPE
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert recorded.received == 0


@pytest.mark.django_db
def test_a_supplier_may_still_send_its_bid_files(agent, staff, recorded):
    world = make_world(agent, staff, bidders=1, with_auction=False)
    client = Client()
    client.force_login(world.bidders[0])
    response = client.post(
        f"/api/v1/bidding/lots/{world.lot.pk}/bids/",
        data=multipart(64 * 1024),
        content_type=CONTENT_TYPE,
    )
    assert response.status_code != 403
    assert recorded.received >= 64 * 1024


# --- The size, before the body ------------------------------------------------------------------


class InnerApp:
    """Stands for Django: answers 200 after reading the whole body."""

    def __init__(self) -> None:
        self.called = False
        self.body = b""

    async def __call__(self, scope, receive, send) -> None:
        self.called = True
        while True:
            message = await receive()
            self.body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def call(
    path: str,
    chunks: list[bytes],
    *,
    declared: int | None,
    language: str = "",
    content_type: str = CONTENT_TYPE,
):
    inner = InnerApp()
    headers = [(b"content-type", content_type.encode())]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    if language:
        headers.append((b"accept-language", language.encode()))
    communicator = ApplicationCommunicator(RequestBodyLimit(inner), http_scope(path, headers))
    for index, chunk in enumerate(chunks):
        await communicator.send_input(
            {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        )
    start = await communicator.receive_output(5)
    body = await communicator.receive_output(5)
    await communicator.wait(5)
    return start, body["body"], inner


@pytest.mark.django_db
async def test_a_body_over_an_api_routes_cap_is_refused_from_its_content_length(settings):
    settings.MAX_REQUEST_BYTES = 1000
    start, body, inner = await call("/api/v1/organizations/", [], declared=1001)
    assert start["status"] == 413
    error = json.loads(body)["error"]
    assert error["code"] == "REQUEST_TOO_LARGE"
    assert error["message"] == "请求过大：此处最多接受 1000\xa0字节。"
    assert not inner.called


@pytest.mark.django_db
async def test_an_upload_route_takes_up_to_max_upload_bytes(settings):
    settings.MAX_REQUEST_BYTES = 1000
    settings.MAX_UPLOAD_BYTES = 4 * MIB
    path = "/api/v1/bidding/lots/7/bids/"
    start, _, inner = await call(path, [b"x" * 2000], declared=2000)
    assert start["status"] == 200 and inner.body == b"x" * 2000
    start, body, inner = await call(path, [], declared=4 * MIB + 1, language="en")
    assert start["status"] == 413 and not inner.called
    assert b"Request too large: this accepts at most 4.0\xc2\xa0MB." in body
    # Files travel as multipart: a JSON body there is held to the ordinary cap.
    start, _, inner = await call(path, [], declared=2000, content_type="application/json")
    assert start["status"] == 413 and not inner.called


@pytest.mark.django_db
async def test_a_body_without_a_content_length_is_counted(settings):
    settings.MAX_REQUEST_BYTES = 1000
    start, body, inner = await call("/projects/new/", [b"x" * 600, b"x" * 600], declared=None)
    assert start["status"] == 413 and not inner.called
    assert b"<p>" in body  # a page route answers a page
    start, _, inner = await call("/projects/new/", [b"a" * 500, b"b" * 500], declared=None)
    assert start["status"] == 200 and inner.body == b"a" * 500 + b"b" * 500


# --- A real daphne ------------------------------------------------------------------------------


def peak_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_daphne_does_not_parse_a_large_refused_upload_in_memory(daphne_url, supervisor):
    """Twisted's request used to parse every multipart body in memory (~13 times its size) before
    the application ran; now a refused 24 MiB upload costs daphne about one copy of it."""
    token = Token.objects.create(user=supervisor)
    (server,) = multiprocessing.active_children()
    size = 24 * MIB
    body = multipart(size)
    request = urllib.request.Request(
        f"{daphne_url}/api/v1/bidding/lots/1/bids/",
        data=body,
        method="POST",
        headers={"Content-Type": CONTENT_TYPE, "Authorization": f"Token {token.key}"},
    )
    with urllib.request.urlopen(f"{daphne_url}/api/v1/audit/head/", timeout=30):
        pass  # warm the process: imports, URL resolver, database connection
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")
    before = peak_kib(server.pid)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 403
    grown_mib = (peak_kib(server.pid) - before) / 1024
    assert grown_mib < 3 * size / MIB, (
        f"daphne grew {grown_mib:.0f} MiB for a {size // MIB} MiB body"
    )
