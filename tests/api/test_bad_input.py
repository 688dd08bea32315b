"""Bad input never costs the server: bodies over a route's limit are refused before they are
read, zip archives inflate within a budget, malformed input is a 4xx in the one error shape,
and a refused request leaves nothing behind. A real uvicorn API on a real Valkey; memory is
the API process's own peak (VmHWM from /proc)."""

from __future__ import annotations

import contextlib
import http.client
import io
import zipfile
from pathlib import Path

import pytest
import redis
from PIL import Image

MB = 1024 * 1024
SOLVE_TEXT = Path(__file__).resolve().parents[1] / "data" / "shift_scheduling" / "Instance1.txt"
SMALL_LIMITS = {"REPERTORY_CLIP__IMAGES__MAX_REQUEST_BYTES": str(4 * MB)}


def _png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.putpixel((1, 1), (255 - color[0], 255 - color[1], 255 - color[2]))
    image.save(out, "PNG")
    return out.getvalue()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _peak_now(pid: int) -> int:
    """Resets the process's peak to its current size where the kernel lets us; the peak."""
    with contextlib.suppress(OSError):  # else the rise is measured from the peak so far
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kb(pid, "VmHWM")


def _peak_rise_mb(pid: int, before_kb: int) -> float:
    return (_status_kb(pid, "VmHWM") - before_kb) / 1024


def _chunks(total: int, size: int = MB, head: bytes = b""):
    yield head
    chunk = bytes(size)
    for _ in range(total // size):
        yield chunk


#: The start of a multipart body whose one file part then streams on.
PART = (b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n")


def _headers_only(stack, path: str, length: int, content_type: str) -> tuple[int, dict]:
    """Sends a request's headers, declaring ``length`` bytes, and reads the answer without
    sending a byte of the body: only a server that answers unread can reply."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _api(make_stack, **env: str):
    stack = make_stack(**env)
    stack.start_api()
    return stack, stack.procs["api"].pid


@pytest.fixture(scope="module")
def api_stack(redis_url, tmp_path_factory):
    """An API alone (no pools): everything here is refused before a worker is asked."""
    from stack_support import Stack

    s = Stack(redis_url, tmp_path_factory.mktemp("bad-input"), **SMALL_LIMITS)
    try:
        s.start_api()
        yield s
    finally:
        s.close()


def test_a_50_mb_body_is_refused_before_it_is_read_and_the_api_memory_stays_flat(make_stack):
    stack, pid = _api(make_stack)
    warm = stack.http.post("/v1/diag", content=bytes(2 * MB),
                           headers={"content-type": "application/json"})
    assert warm.status_code == 413
    before = _peak_now(pid)

    status, body = _headers_only(stack, "/v1/diag", 50 * MB, "application/json")
    assert status == 413, body
    assert "REPERTORY_API__MAX_BODY_BYTES" in body["error"] and "1,048,576" in body["error"]
    assert body["setting"] == "REPERTORY_API__MAX_BODY_BYTES" and body["max_bytes"] == MB

    sent = stack.http.post("/v1/diag", content=bytes(50 * MB),
                           headers={"content-type": "application/json"})
    assert sent.status_code == 413 and sent.json()["limit"] == "api.max_body_bytes"
    assert _peak_rise_mb(pid, before) < 30
    assert stack.http.get("/healthz").status_code == 200


def test_a_50_mb_chunked_body_is_stopped_once_over_the_limit_and_the_memory_stays_flat(
        make_stack):
    stack, pid = _api(make_stack, **SMALL_LIMITS)
    warm = stack.http.post("/v1/solve", content=_chunks(8 * MB),
                           headers={"content-type": "text/plain"})
    assert warm.status_code == 413
    before = _peak_now(pid)

    for path, content_type, head, setting in (
            ("/v1/solve", "text/plain", b"", "REPERTORY_SOLVE__MAX_TEXT_BYTES"),
            ("/v1/diag", "application/json", b"", "REPERTORY_API__MAX_BODY_BYTES"),
            ("/v1/images", "multipart/form-data; boundary=x", PART,
             "REPERTORY_CLIP__IMAGES__MAX_REQUEST_BYTES")):
        response = stack.http.post(path, content=_chunks(50 * MB, head=head),
                                   headers={"content-type": content_type})
        assert "content-length" not in response.request.headers  # sent chunked
        assert response.status_code == 413, response.text
        assert setting in response.json()["error"]
    assert _peak_rise_mb(pid, before) < 30


def test_every_route_has_its_own_limit_named_in_the_413(api_stack):
    cases = [("/v1/solve", 5_000_001, "text/plain", "REPERTORY_SOLVE__MAX_TEXT_BYTES"),
             ("/v1/images", 4 * MB + 1, "multipart/form-data; boundary=x",
              "REPERTORY_CLIP__IMAGES__MAX_REQUEST_BYTES"),
             ("/v1/search/image", 21 * MB, "multipart/form-data; boundary=x",
              "REPERTORY_CLIP__IMAGES__MAX_BYTES"),
             ("/v1/scrape", MB + 1, "application/json", "REPERTORY_API__MAX_BODY_BYTES")]
    for path, length, content_type, setting in cases:
        status, body = _headers_only(api_stack, path, length, content_type)
        assert status == 413, (path, body)
        assert body["setting"] == setting and setting in body["error"], body
        assert f"{length:,} bytes" in body["error"]
    under = api_stack.http.post("/v1/solve", content=SOLVE_TEXT.read_bytes(),
                                params={"time_limit_s": 1},
                                headers={"content-type": "text/plain"})
    assert under.status_code == 202, under.text


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """60 entries of 20 MiB of zeros (each exactly at the image limit): about 1.2 MB."""
    archive = io.BytesIO()
    zero = bytes(MB)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(60):
            with zf.open(f"bomb/{i:02}.png", "w") as entry:
                for _ in range(20):
                    entry.write(zero)
    return archive.getvalue()


def _zip_upload(stack, name: str, data: bytes):
    return stack.http.post("/v1/images", files=[("files", (name, data, "application/zip"))])


def test_a_zip_bomb_is_refused_before_it_is_inflated_and_the_api_memory_stays_flat(
        make_stack, zip_bomb):
    assert len(zip_bomb) < 2 * MB
    stack, pid = _api(make_stack)
    small = io.BytesIO()
    with zipfile.ZipFile(small, "w") as zf:
        zf.writestr("a.txt", b"not an image")
    assert _zip_upload(stack, "warm.zip", small.getvalue()).status_code == 415
    before = _peak_now(pid)

    refused = _zip_upload(stack, "bomb.zip", zip_bomb)
    assert refused.status_code == 413, refused.text
    body = refused.json()
    assert body["limit"] == "clip.images.max_inflated_bytes" and "bomb.zip" in body["error"]
    assert "REPERTORY_CLIP__IMAGES__MAX_INFLATED_BYTES" in body["error"]
    assert _peak_rise_mb(pid, before) < 100

    under_budget = io.BytesIO()  # 12 x 20 MiB fits the 256 MiB budget: read entry by entry
    with zipfile.ZipFile(io.BytesIO(zip_bomb)) as bomb, \
            zipfile.ZipFile(under_budget, "w") as out:
        for info in bomb.infolist()[:12]:
            out.writestr(info, bomb.open(info).read(), zipfile.ZIP_DEFLATED)
    refused = _zip_upload(stack, "zeros.zip", under_budget.getvalue())
    assert refused.status_code == 415 and "zeros.zip:bomb/00.png" in refused.json()["error"]
    assert _peak_rise_mb(pid, before) < 100


def _stored_zip_with_bad_crc(name: str, data: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("ok.png", _png((10, 200, 10)))
        zf.writestr(name, data)
    raw = bytearray(archive.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + len(data) // 2] ^= 0xFF  # one byte of the stored data, after its header
    return bytes(raw)


def test_a_zip_entry_with_a_bad_crc_is_a_422_naming_the_entry(api_stack):
    png = _png((200, 10, 10), size=(80, 60))
    response = _zip_upload(api_stack, "crc.zip", _stored_zip_with_bad_crc("x/bad.png", png))
    assert response.status_code == 422, response.text
    assert response.json()["file"] == "crc.zip:x/bad.png"
    assert "crc.zip:x/bad.png" in response.json()["error"]
    assert "CRC" in response.json()["error"]


def test_invalid_utf8_on_solve_is_a_422_as_text_and_as_json(api_stack):
    text = SOLVE_TEXT.read_bytes().replace(b"SECTION_SHIFTS", b"SECTION_\xffSHIFTS", 1)
    as_text = api_stack.http.post("/v1/solve", content=text,
                                  headers={"content-type": "text/plain"})
    assert as_text.status_code == 422, as_text.text
    assert "UTF-8" in as_text.json()["error"] and "line" in as_text.json()["error"]
    as_json = api_stack.http.post("/v1/solve", content=b'{"problem": "\xc3\x28"}',
                                  headers={"content-type": "application/json"})
    assert as_json.status_code == 422 and "UTF-8" in as_json.json()["error"]
    on_diag = api_stack.http.post("/v1/diag", content=b'{"mode": "\xff"}',
                                  headers={"content-type": "application/json"})
    assert on_diag.status_code == 422 and "UTF-8" in on_diag.json()["error"]


def test_deeply_nested_json_is_a_422_on_every_route_that_parses_json(api_stack):
    deep = b"[" * 100_000
    for path in ("/v1/solve", "/v1/diag", "/v1/scrape"):
        response = api_stack.http.post(path, content=deep,
                                       headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        assert "nested too deeply" in response.json()["error"]
    nested = "[" * 3000
    search = api_stack.http.get("/v1/search", params={"q": "shoe", "filter": nested})
    assert search.status_code == 422 and "filter" in search.json()["error"]
    upload = api_stack.http.post("/v1/images", data={"metadata": nested},
                                 files=[("files", ("a.png", _png((1, 2, 3)), "image/png"))])
    assert upload.status_code == 422 and "metadata" in upload.json()["error"]


def test_an_unknown_route_and_a_wrong_method_answer_in_the_error_shape(api_stack):
    missing = api_stack.http.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {"error": "no route GET /v1/nothing-here"}
    wrong = api_stack.http.delete("/v1/solve")
    assert wrong.status_code == 405 and "detail" not in wrong.json()
    assert "DELETE /v1/solve" in wrong.json()["error"] and "POST" in wrong.headers["allow"]


def test_malformed_json_on_diag_answers_in_the_error_shape(api_stack):
    for content in (b"{", b'{"mode": 3'):
        response = api_stack.http.post("/v1/diag", content=content,
                                       headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert set(response.json()) >= {"error"} and "detail" not in response.json()
    wrong_type = api_stack.http.post("/v1/diag", json={"mode": "sleep", "seconds": "long"})
    assert wrong_type.status_code == 422 and "seconds" in wrong_type.json()["error"]
    multipart = api_stack.http.post("/v1/images", content=b"--x\r\nnot a part",
                                    headers={"content-type": "multipart/form-data; boundary=x"})
    assert 400 <= multipart.status_code < 500 and "error" in multipart.json(), multipart.text


def test_an_unexpected_error_is_a_500_in_the_error_shape_without_a_stack(api_stack):
    client = redis.Redis.from_url(api_stack.redis_url)
    client.hset("repertory:image:corrupt", mapping={"status": b"{not json"})
    client.close()
    response = api_stack.http.get("/v1/images/corrupt")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: the server log has the details",
                               "type": "internal_error"}


@pytest.fixture()
def no_enqueue_user(redis_url: str):
    """A Redis user that may read every key but write only repertory's own (job and image
    records, never the broker's queues): every enqueue it tries is refused."""
    admin = redis.Redis.from_url(redis_url)
    admin.execute_command("ACL", "SETUSER", "no-enqueue", "reset", "on", ">no-enqueue-pw",
                          "~repertory*", "%R~*", "&*", "+@all")
    try:
        yield "no-enqueue", "no-enqueue-pw"
    finally:
        admin.execute_command("ACL", "DELUSER", "no-enqueue")
        admin.close()


def _image_keys(stack) -> list[bytes]:
    client = redis.Redis.from_url(stack.redis_url)
    try:
        return sorted(client.scan_iter(match="repertory:image:*"))
    finally:
        client.close()


def _blob_files(stack) -> list[Path]:
    root = Path(stack.env["REPERTORY_VAR_DIR"]) / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_an_upload_refused_at_submission_leaves_no_blob_and_no_image_record_behind(
        make_stack, no_enqueue_user):
    from actors.embed.images import validate_image
    from actors.embed.ingest import store_image
    from actors.embed.records import INDEXED, ImageRecords
    from config.clip import ClipSettings, ImageSettings

    user, password = no_enqueue_user
    stack = make_stack()
    base, _, db = stack.redis_url.rpartition("/")
    stack.env["REDIS_URL"] = base.replace("redis://", f"redis://{user}:{password}@") + "/" + db
    stack.start_api()
    clip = ClipSettings(images=ImageSettings(
        blob_dir=Path(stack.env["REPERTORY_VAR_DIR"]) / "blobs"))
    known = _png((5, 5, 5))
    client = redis.Redis.from_url(stack.redis_url)
    kept = store_image(clip, client, known, validate_image(known, clip.images), {}, "known.png")
    ImageRecords(client).set_status(kept.image_id, INDEXED)
    record, blobs, keys = ImageRecords(client).get(kept.image_id), _blob_files(stack), \
        _image_keys(stack)

    files = [("files", (n, d, "image/png")) for n, d in
             (("new.png", _png((250, 1, 1))), ("known.png", known), ("other.png",
                                                                      _png((1, 250, 1))))]
    response = stack.http.post("/v1/images", files=files, data={"product_id": "p"})
    assert response.status_code == 503, response.text
    assert "error" in response.json()
    assert _blob_files(stack) == blobs and _image_keys(stack) == keys
    assert ImageRecords(client).get(kept.image_id) == record  # put back as it was
    assert not list(client.scan_iter(match="repertory:job:*"))
    client.close()


@pytest.fixture(scope="module")
def search_stack(redis_url, tmp_path_factory):
    from stack_support import Stack

    s = Stack(redis_url, tmp_path_factory.mktemp("search-bad-input"),
              REPERTORY_CLIP__MODEL_NAME="tiny-clip", REPERTORY_QDRANT__MODE="edge",
              REPERTORY_CLIP__MAX_WAIT_MS="5", REPERTORY_QDRANT__OPTIMIZE_AFTER="0")
    try:
        s.start_api()
        s.start_pool("index", processes=1, threads=2)
        s.start_pool("gpu", processes=1, threads=2)
        yield s
    finally:
        s.close()


def test_a_search_by_image_keeps_no_query_blob_but_keeps_an_indexed_images_blob(search_stack):
    from stack_support import wait_until

    indexed = _png((20, 60, 200), size=(90, 70))
    up = search_stack.http.post("/v1/images", files=[("files", ("i.png", indexed, "image/png"))])
    assert up.status_code == 202, up.text
    image_id = up.json()["images"][0]["image_id"]
    wait_until(lambda: search_stack.http.get(f"/v1/images/{image_id}").json().get("status")
               == "indexed", 90, what="the image indexed")
    blobs = _blob_files(search_stack)
    assert len(blobs) == 1

    for query in (_png((200, 60, 20), size=(90, 70)), indexed):
        found = search_stack.http.post("/v1/search/image",
                                       files={"file": ("q.png", query, "image/png")})
        assert found.status_code == 200, found.text
        assert found.json()["hits"][0]["image_id"] == image_id
        assert _blob_files(search_stack) == blobs
