"""A blue/green reindex through real processes: API, cpu pool (the coordinator), gpu pool (two
tiny open_clip checkpoints on CPU, real torch), index pool (Qdrant Edge), a real Valkey.

The model settings change (another checkpoint) and the stack restarts: the alias stays on the
old collection and searches keep working while the reindex fills the new one, then the alias
switches; rollback brings the old one back. A search loop runs throughout: every search must
answer, with hits, and an image's own picture must find it first (which only holds when the
query is embedded by the model of the collection it searches).
"""

from __future__ import annotations

import threading
import time

import pytest
from stack_support import wait_until

IMAGES = 24


def _checkpoint(path, seed: int) -> str:
    import open_clip
    import torch

    from config.clip import MODEL_CONFIG_DIR

    open_clip.add_model_config(MODEL_CONFIG_DIR)
    torch.manual_seed(seed)
    model = open_clip.create_model("tiny-clip", pretrained=None, device="cpu")
    torch.save(model.state_dict(), path)
    return str(path)


def _picture(seed: int) -> bytes:
    """A distinct picture per seed."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, size=(40, 48, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    return {"a": _checkpoint(folder / "tiny-a.pt", 1), "b": _checkpoint(folder / "tiny-b.pt", 2)}


def _start(stack) -> None:
    stack.start_api()
    stack.start_pool("index", processes=1, threads=4)
    stack.start_pool("gpu", processes=1, threads=8)
    stack.start_pool("cpu", processes=1, threads=4)


def _stop(stack) -> None:
    for name in ("pool-cpu", "pool-gpu", "pool-index", "api"):
        stack.stop(name)


class SearchLoop(threading.Thread):
    """Image and text searches one after another; every answer is checked."""

    def __init__(self, stack, pictures: dict[str, bytes]) -> None:
        super().__init__(daemon=True)
        self.stack, self.pictures = stack, list(pictures.items())
        self.done: list[float] = []
        self.failures: list[str] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        i = 0
        while not self.stopped.is_set():
            image_id, picture = self.pictures[i % len(self.pictures)]
            i += 1
            try:
                found = self.stack.http.post("/v1/search/image", params={"limit": 3},
                                             files={"file": ("q.png", picture, "image/png")})
                text = self.stack.http.get("/v1/search", params={"q": f"picture {i}"})
            except Exception as exc:  # noqa: BLE001 - a failed search is what we look for
                self.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if found.status_code != 200 or text.status_code != 200:
                self.failures.append(f"{found.status_code} {text.status_code}: {found.text}")
            elif not found.json()["hits"] or not text.json()["hits"]:
                self.failures.append("no hits")
            elif (hit := found.json()["hits"][0])["image_id"] != image_id or hit["score"] < 0.99:
                self.failures.append(f"image {image_id} found {hit['image_id']} at "
                                     f"{hit['score']:.3f}")
            self.done.append(time.time())


def test_a_reindex_after_a_model_change_swaps_the_alias_under_searches(
        redis_url, tmp_path, weights) -> None:
    from stack_support import Stack

    stack = Stack(redis_url, tmp_path, REPERTORY_CLIP__MODEL_NAME="tiny-clip",
                  REPERTORY_CLIP__PRETRAINED=weights["a"], REPERTORY_QDRANT__MODE="edge",
                  REPERTORY_CLIP__MAX_WAIT_MS="5", REPERTORY_CLIP__IMAGES__IMAGES_PER_JOB="2",
                  REPERTORY_QDRANT__REINDEX_WINDOW="1", REPERTORY_SCRAPE__EXTRACT_WORKERS="1",
                  REPERTORY_API__RPC_TIMEOUT_S="60")
    try:
        _start(stack)
        pictures = {}
        for seed in range(IMAGES):
            data = _picture(seed)
            answer = stack.http.post("/v1/images", files=[("files", (f"{seed}.png", data,
                                                                     "image/png"))])
            assert answer.status_code == 202, answer.text
            pictures[answer.json()["images"][0]["image_id"]] = data
        for image_id in pictures:
            wait_until(lambda i=image_id: stack.http.get(f"/v1/images/{i}").json()["status"]
                       == "indexed", 120, what=f"image {image_id} indexed")
        before = stack.http.get("/v1/reindex").json()
        assert before["live"] == before["configured"] == "tiny-clip-tiny-a"
        assert stack.http.post("/v1/reindex").status_code == 409  # nothing changed

        _stop(stack)
        stack.env["REPERTORY_CLIP__PRETRAINED"] = weights["b"]
        _start(stack)
        changed = stack.http.get("/v1/reindex").json()
        assert changed["live"] == "tiny-clip-tiny-a" and changed["configured"] == "tiny-clip-tiny-b"

        loop = SearchLoop(stack, pictures)
        loop.start()
        wait_until(lambda: len(loop.done) >= 3, 120, what="searches before the reindex")
        job = stack.http.post("/v1/reindex")
        assert job.status_code == 202, job.text
        again = stack.http.post("/v1/reindex")
        assert again.status_code == 409 and "already running" in again.json()["error"]
        record = stack.wait_status(job.json()["job_id"], {"succeeded", "failed", "dead"}, 300)
        wait_until(lambda: len(loop.done) >= len([t for t in loop.done
                                                  if t <= record["finished_at"]]) + 3,
                   120, what="searches after the switch")
        loop.stopped.set()
        loop.join(60)

        assert record["status"] == "succeeded", record
        assert record["progress"]["done"] == record["progress"]["total"] == IMAGES
        during = [t for t in loop.done if record["started_at"] <= t <= record["finished_at"]]
        assert loop.failures == [] and during, (loop.failures, len(loop.done))
        result = stack.http.get(f"/v1/jobs/{record['id']}/result").json()["result"]
        assert result["status"] == "switched"
        counts = stack.http.get("/v1/images/stats").json()["index"]["collections"]
        assert counts == {result["live"]: IMAGES, result["previous"]: IMAGES}
        state = stack.http.get("/v1/reindex").json()
        assert (state["live"], state["previous"]) == ("tiny-clip-tiny-b", "tiny-clip-tiny-a")

        # The same picture uploaded again is the same image (its id from before the switch).
        first_id, first_picture = next(iter(pictures.items()))
        again = stack.http.post("/v1/images", files=[("files", ("again.png", first_picture,
                                                                "image/png"))]).json()
        assert again["images"][0]["image_id"] == first_id and again["images"][0]["duplicate"]
        stack.wait_status(again["job_id"], "succeeded", 120)
        assert stack.http.get("/v1/images/stats").json()["index"]["collections"] == counts

        rolled = stack.http.post("/v1/reindex/rollback")
        assert rolled.status_code == 200, rolled.text
        assert rolled.json() == {"live": result["previous"], "previous": result["live"]}
        assert stack.http.get("/v1/reindex").json()["live"] == "tiny-clip-tiny-a"
        after = SearchLoop(stack, dict(list(pictures.items())[:4]))
        after.start()
        wait_until(lambda: len(after.done) >= 4, 120, what="searches after the rollback")
        after.stopped.set()
        after.join(60)
        assert after.failures == []
    finally:
        stack.close()
