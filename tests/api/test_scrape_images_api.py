"""`index_images`: a scrape sends the logo and product images it found to the GPU pool."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from stack_support import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "actors" / "scrape"))
from scrape_sites import SiteServer  # noqa: E402


@pytest.fixture(scope="module")
def full_stack(redis_url, tmp_path_factory):
    from stack_support import Stack, scrape_env

    sites = SiteServer().start()
    s = Stack(redis_url, tmp_path_factory.mktemp("scrape-images"),
              **scrape_env(sites.port, sites.hosts()),
              REPERTORY_CLIP__MODEL_NAME="tiny-clip", REPERTORY_QDRANT__MODE="edge")
    try:
        s.start_api()
        s.start_pool("scrape", processes=1, threads=4)
        s.start_pool("index", processes=1, threads=2)
        s.start_pool("gpu", processes=1, threads=4)
        yield s, sites
    finally:
        s.close()
        sites.stop()


def test_images_found_on_a_site_are_embedded_indexed_and_searchable(full_stack):
    stack, sites = full_stack
    batch = stack.submit("/v1/scrape", {"domains": ["acme-widgets.com"], "index_images": True})
    stack.wait_status(batch["job_id"], "succeeded", timeout=90)
    (row,) = stack.http.get(f"/v1/jobs/{batch['job_id']}/result").json()["result"]
    image_ids = row["result"]["image_ids"]
    assert len(image_ids) == 2, row["result"]["record"].get("images")
    assert {"/img/logo.png", "/img/hero.jpg"} <= set(sites.paths("acme-widgets.com"))
    for image_id in image_ids:
        record = wait_until(lambda i=image_id: (r := stack.http.get(f"/v1/images/{i}").json())
                            .get("status") == "indexed" and r, 60, what="indexing")
        assert record["metadata"]["domain"] == "acme-widgets.com"
        assert record["metadata"]["source_url"].startswith("http://acme-widgets.com/img/")
    hits = stack.http.get("/v1/search", params={"q": "logo", "limit": 5}).json()["hits"]
    assert set(image_ids) <= {h["image_id"] for h in hits}
