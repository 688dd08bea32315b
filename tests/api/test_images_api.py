"""Images through the real path: upload → gpu worker (tiny CLIP, real torch) → index worker
(Qdrant Edge, a separate process) → search, all over HTTP."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from stack_support import wait_until


def _png(color: tuple[int, int, int], size: tuple[int, int] = (96, 80),
         stripe: int = 0) -> bytes:
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):
        if stripe and (x // 8) % stripe == 0:
            for y in range(size[1]):
                image.putpixel((x, y), (255 - color[0], 255 - color[1], 255 - color[2]))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _jpeg(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def gpu_stack(redis_url, tmp_path_factory):
    from stack_support import Stack

    s = Stack(redis_url, tmp_path_factory.mktemp("images"),
              REPERTORY_CLIP__MODEL_NAME="tiny-clip", REPERTORY_QDRANT__MODE="edge",
              REPERTORY_CLIP__MAX_WAIT_MS="5", REPERTORY_CLIP__IMAGES__MAX_BYTES="400000",
              REPERTORY_CLIP__IMAGES__MAX_PIXELS="4000000",
              REPERTORY_QDRANT__OPTIMIZE_AFTER="0",
              REPERTORY_CLIP__IMAGES__IMAGES_PER_JOB="2")
    try:
        s.start_api()
        s.start_pool("index", processes=1, threads=4)
        s.start_pool("gpu", processes=1, threads=8)
        yield s
    finally:
        s.close()


def _upload(stack, files: list[tuple[str, bytes]], **form: str):
    return stack.http.post("/v1/images", data=form,
                           files=[("files", (n, d, "application/octet-stream"))
                                  for n, d in files])


def _indexed(stack, image_id: str) -> dict:
    return wait_until(lambda: (r := stack.http.get(f"/v1/images/{image_id}").json())
                      .get("status") == "indexed" and r, 60, what=f"image {image_id} indexed")


def test_an_uploaded_image_is_found_first_by_image_search(gpu_stack):
    images = {"red": _png((200, 30, 30), stripe=2), "green": _png((30, 200, 30), stripe=3),
              "blue": _png((30, 30, 200), stripe=5)}
    response = _upload(gpu_stack, [(f"{k}.png", v) for k, v in images.items()][:2],
                       product_id="sku-1", metadata='{"color": "mixed"}')
    assert response.status_code == 202, response.text
    body = response.json()
    job = gpu_stack.wait_status(body["job_id"], "succeeded", timeout=90)
    assert job["kind"] == "images" and job["children"] is None, "two images fit one job"
    ids = {i["filename"]: i["image_id"] for i in body["images"]}
    result = gpu_stack.http.get(f"/v1/jobs/{body['job_id']}/result").json()["result"]
    assert sorted(result["embedded"]) == sorted(ids.values()) and result["failed"] == []
    for image_id in ids.values():
        record = _indexed(gpu_stack, image_id)
        assert record["product_id"] == "sku-1" and record["metadata"] == {"color": "mixed"}

    found = gpu_stack.http.post("/v1/search/image", params={"limit": 3},
                                files={"file": ("q.png", images["green"], "image/png")})
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert hits[0]["image_id"] == ids["green.png"]
    assert hits[0]["score"] == pytest.approx(1.0, abs=1e-3)
    assert hits[0]["product_id"] == "sku-1"

    text = gpu_stack.http.get("/v1/search", params={"q": "a green square", "limit": 2}).json()
    assert len(text["hits"]) == 2 and text["query"] == "a green square"
    filtered = gpu_stack.http.get("/v1/search", params={"q": "x", "product_id": "nope"}).json()
    assert filtered["hits"] == []


def test_the_same_upload_twice_is_one_image_one_blob_and_one_point(gpu_stack):
    data = _png((10, 120, 240), stripe=4)
    first = _upload(gpu_stack, [("a.png", data)]).json()
    gpu_stack.wait_status(first["job_id"], "succeeded", timeout=60)
    image_id = first["images"][0]["image_id"]
    _indexed(gpu_stack, image_id)
    before = gpu_stack.http.get("/v1/images/stats").json()
    second = _upload(gpu_stack, [("again.png", data)]).json()
    assert second["images"][0]["image_id"] == image_id
    assert second["images"][0]["duplicate"] is True
    gpu_stack.wait_status(second["job_id"], "succeeded", timeout=60)
    after = gpu_stack.http.get("/v1/images/stats").json()
    assert after["index"]["collections"] == before["index"]["collections"]
    assert after["blobs"] == before["blobs"]


def test_a_corrupt_image_in_a_batch_fails_alone(gpu_stack):
    good = _jpeg((250, 200, 0))
    broken = good[:200] + bytes(len(good) - 200)  # header intact, entropy data zeroed
    response = _upload(gpu_stack, [("good.jpg", good), ("broken.jpg", broken)])
    assert response.status_code == 202, response.text
    ids = {i["filename"]: i["image_id"] for i in response.json()["images"]}
    job = gpu_stack.wait_status(response.json()["job_id"], "succeeded", timeout=90)
    result = gpu_stack.http.get(f"/v1/jobs/{job['id']}/result").json()["result"]
    assert result["embedded"] == [ids["good.jpg"]]
    assert [f["image_id"] for f in result["failed"]] == [ids["broken.jpg"]]
    _indexed(gpu_stack, ids["good.jpg"])
    bad = gpu_stack.http.get(f"/v1/images/{ids['broken.jpg']}").json()
    assert bad["status"] == "failed"

    alone = _upload(gpu_stack, [("only-broken.jpg", broken[:-10] + b"\x00" * 10)])
    failed = gpu_stack.wait_status(alone.json()["job_id"], "failed", timeout=60)
    assert failed["error"]["type"] == "corrupt_image" and failed["attempts"] == 1


def test_a_bulk_upload_is_split_into_jobs_of_images_per_job(gpu_stack):
    files = [(f"bulk{i}.png", _png((i * 20, 100, 255 - i * 20), stripe=i + 2)) for i in range(5)]
    response = _upload(gpu_stack, files)
    batch = gpu_stack.wait_status(response.json()["job_id"], "succeeded", timeout=90)
    assert batch["kind"] == "images-batch"
    assert batch["children"]["total"] == 3 and batch["children"]["completed"] == 3  # 2+2+1
    for image in response.json()["images"]:
        _indexed(gpu_stack, image["image_id"])


def test_oversize_files_and_decompression_bombs_are_refused_before_queueing(gpu_stack):
    import os

    noise = Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    too_big = _upload(gpu_stack, [("noise.png", out.getvalue())])
    assert too_big.status_code == 413 and "noise.png" in too_big.json()["error"]

    bomb = io.BytesIO()
    Image.new("L", (4000, 4000), 0).save(bomb, "PNG", optimize=True)
    refused = _upload(gpu_stack, [("bomb.png", bomb.getvalue())])
    assert refused.status_code == 422 and "bomb.png" in refused.json()["error"]

    text = _upload(gpu_stack, [("notes.txt", b"just text, not an image")])
    assert text.status_code == 415
    bad_meta = _upload(gpu_stack, [("a.png", _png((1, 2, 3)))], metadata="[1, 2]")
    assert bad_meta.status_code == 422 and "metadata" in bad_meta.json()["error"]
    queues = {q["queue"]: q for q in gpu_stack.http.get("/v1/queues").json()}
    assert queues["gpu"]["ready"] == 0


def test_a_zip_of_images_is_expanded_into_one_job_per_image(gpu_stack):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/one.png", _png((90, 10, 10), stripe=6))
        zf.writestr("x/two.png", _png((10, 90, 10), stripe=7))
    response = _upload(gpu_stack, [("bulk.zip", archive.getvalue())])
    assert response.status_code == 202, response.text
    names = [i["filename"] for i in response.json()["images"]]
    assert names == ["bulk.zip:x/one.png", "bulk.zip:x/two.png"]
    gpu_stack.wait_status(response.json()["job_id"], "succeeded", timeout=60)


def test_similar_and_delete_remove_the_vector_too(gpu_stack):
    a = _upload(gpu_stack, [("p.png", _png((77, 0, 77), stripe=2))]).json()
    b = _upload(gpu_stack, [("q.png", _png((0, 77, 77), stripe=3))]).json()
    ida, idb = a["images"][0]["image_id"], b["images"][0]["image_id"]
    _indexed(gpu_stack, ida)
    _indexed(gpu_stack, idb)
    similar = gpu_stack.http.get(f"/v1/images/{ida}/similar", params={"limit": 50}).json()
    assert idb in [h["image_id"] for h in similar["hits"]]
    assert ida not in [h["image_id"] for h in similar["hits"]]

    assert gpu_stack.http.delete(f"/v1/images/{idb}").status_code == 204
    assert gpu_stack.http.get(f"/v1/images/{idb}").status_code == 404
    again = gpu_stack.http.get(f"/v1/images/{ida}/similar", params={"limit": 50}).json()
    assert idb not in [h["image_id"] for h in again["hits"]]


def test_the_gpu_worker_reports_its_device_and_model(gpu_stack):
    (worker,) = gpu_stack.workers("gpu")
    assert worker["queues"] == ["gpu", "gpu-query"]
    assert worker["device"] == "cpu"
    assert worker["extra"]["model"] == "tiny-clip-random"


def test_the_cli_uploads_a_directory_waits_for_indexing_and_searches(gpu_stack, tmp_path):
    import subprocess
    import sys

    for i, color in enumerate([(5, 5, 250), (250, 250, 5)]):
        (tmp_path / f"img{i}.png").write_bytes(_png(color, stripe=i + 2))
    (tmp_path / "readme.txt").write_text("not an image: skipped by suffix")
    base = [sys.executable, "-m", "repertory_cli.main"]
    api = ["--api", str(gpu_stack.http.base_url)]
    added = subprocess.run([*base, "images", "add", str(tmp_path), "--metadata", "batch=cli",
                            *api], capture_output=True, text=True, timeout=180,
                           env=gpu_stack.env)
    assert added.returncode == 0, added.stdout + added.stderr
    assert "2 images indexed, 0 files refused" in added.stdout
    found = subprocess.run([*base, "search", "yellow", "--limit", "100", *api],
                           capture_output=True, text=True, timeout=120,
                           env={**gpu_stack.env, "COLUMNS": "200"})
    assert found.returncode == 0, found.stderr
    assert "score" in found.stdout
    assert "img0.png" in found.stdout and "img1.png" in found.stdout
