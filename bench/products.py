"""Product extraction on the 40 annotated product pages, scored with the upstream scorer.

    PYTHONPATH=. .venv/bin/python bench/products.py                # both halves, table + JSON
    PYTHONPATH=. .venv/bin/python bench/products.py --show-errors  # development half's misses

Data: ``../shared/benchmarks/scrape/products`` (40 of the 140 pages of
scrapinghub/product-extraction-benchmark, MIT), read in place: the bench may read the shared
folder, the tests never do.

Split, declared before any tuning and never changed: the 40 ``html/*.html.gz`` files sorted by
file name; positions 0, 2, 4, ... 38 are the development half (looked at and tuned on), positions
1, 3, 5, ... 39 are the held-out half (scored only). ``--show-errors`` prints the development
half only.

Scoring: upstream's ``evaluate_upstream.py`` unchanged (imported, not copied): ``price`` as a
decimal, ``sku``, ``availability``, ``InStock`` and ``OutOfStock`` exactly, F1 / precision /
recall over the pages with 1,000 bootstrap resamples for the spread. ``brand``, ``gtin`` and
``mpn`` are scored with its exact ``hard_matching`` too; ``currency`` (the ground truth holds
the visible symbol, e.g. ``€`` or ``원~``, we return ISO 4217) counts a hit when our code is one
the symbol can stand for. Each page is extracted from its HTML with its original URL, as the
scraper would after fetching it. Writes ``bench/results/products.json``.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "benchmarks" / "scrape" / "products"
UPSTREAM_ATTRIBUTES = ("price", "sku", "availability", "InStock", "OutOfStock")
EXTRA_ATTRIBUTES = ("brand", "gtin", "mpn", "currency")


def split(files: list[Path]) -> dict[str, list[Path]]:
    """The declared split: sorted file order, even positions develop, odd positions held out."""
    ordered = sorted(files, key=lambda p: p.name)
    return {"development": ordered[0::2], "held_out": ordered[1::2]}


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("evaluate_upstream",
                                                  DATA / "evaluate_upstream.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predict(html: str, url: str, counts: dict[str, int]) -> dict[str, str]:
    """One page's prediction in upstream's shape (strings, ``None`` left out)."""
    from actors.scrape.extract import extract_page

    page = extract_page(html, url, main_text=False)
    counts["pages"] += 1
    counts["with_product"] += page.product is not None
    counts["with_stage_errors"] += bool(page.errors)
    product = page.product
    if product is None:
        return {}
    out = {"price": str(product.price) if product.price is not None else None,
           "currency": product.currency, "availability": product.availability,
           "sku": product.sku, "brand": product.brand, "gtin": product.gtin,
           "mpn": product.mpn}
    if product.availability in ("InStock", "OutOfStock"):
        out[product.availability] = product.availability
    return {k: v for k, v in out.items() if v is not None}


def currency_hit(scorer: Any, truth: set[str], pred: str | None) -> tuple[int, int, int]:
    """``hard_matching`` after turning each true symbol into the ISO codes it can stand for."""
    from actors.scrape.prices import currency_candidates

    codes = {code for value in truth for code in currency_candidates(value)}
    return scorer.hard_matching(codes, pred)


def score(scorer: Any, truth: dict, preds: dict, n_bootstrap: int,
          show_errors: bool) -> dict[str, dict]:
    metrics = {}
    for attribute in (*UPSTREAM_ATTRIBUTES, *EXTRA_ATTRIBUTES):
        metric = {"price": scorer.decimal_matching,
                  "currency": lambda t, p: currency_hit(scorer, t, p)}.get(
            attribute, scorer.hard_matching)
        metrics[attribute] = scorer.evaluate(truth, preds, attribute, metric,
                                             n_bootstrap=n_bootstrap, show_errors=show_errors)
    return metrics


def run(n_bootstrap: int, show_errors: bool, halves: tuple[str, ...]) -> dict:
    from actors.scrape.fetch import decode_body

    scorer = _scorer()
    truth_all = json.loads((DATA / "ground-truth.json").read_text())
    report: dict = {"split": "sorted file names; even positions development, odd held out",
                    "pages": {}, "halves": {}}
    for half, files in split(list((DATA / "html").glob("*.html.gz"))).items():
        if half not in halves:
            continue
        truth, preds = {}, {}
        counts = {"pages": 0, "with_product": 0, "with_stage_errors": 0}
        for path in files:
            key = path.name.split(".")[0]
            html = decode_body(gzip.decompress(path.read_bytes()))
            truth[key] = truth_all[key]
            preds[key] = predict(html, truth_all[key]["url"], counts)
        report.setdefault("counts", {})[half] = counts
        report["pages"][half] = sorted(truth)
        errors = show_errors and half == "development"
        report["halves"][half] = score(scorer, truth, preds, n_bootstrap, errors)
        report.setdefault("predictions", {})[half] = preds
    return report


def _print(report: dict) -> None:
    halves = list(report["halves"])
    print(f"{'attribute':<13}" + "".join(f"| {h + ' F1 (P / R)':<30}" for h in halves))
    for attribute in (*UPSTREAM_ATTRIBUTES, *EXTRA_ATTRIBUTES):
        cells = []
        for half in halves:
            m = report["halves"][half][attribute]
            cells.append(f"| {m['f1']:.3f} ± {m['f1_std']:.3f} ({m['precision']:.2f} / "
                         f"{m['recall']:.2f}) n={m['support']:<3}")
        print(f"{attribute:<13}" + "".join(f"{c:<32}" for c in cells))
    for half, counts in report["counts"].items():
        print(f"{half}: {counts}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--half", choices=["development", "held_out"],
                        help="score one half only (no JSON written)")
    args = parser.parse_args()
    halves = (args.half,) if args.half else ("development", "held_out")
    report = run(args.n_bootstrap, args.show_errors, halves)
    _print(report)
    if args.half:
        return
    out = ROOT / "bench" / "results" / "products.json"
    out.write_text(json.dumps(report, indent=2, default=str, sort_keys=True) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
