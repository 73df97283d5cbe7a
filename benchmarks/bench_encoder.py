"""The torch encoder against the int8 ONNX encoder (#14), in one run; prints one JSON line.

    python benchmarks/bench_encoder.py                       # speed on the demo articles
    python benchmarks/bench_encoder.py --texts ../shared/data/reuters --limit 300
    python benchmarks/bench_encoder.py --eval ../shared/data/ecbplus ../shared/data/reuters

Speed: cold embedding (title + dek + body, as a build embeds) of the same articles by each
backend, alternating rounds so a noisy machine slows both alike; the best round of each counts.
Quality: the cosine of each article's two vectors, and with ``--eval`` the evaluation command
(``python -m recommender eval SET --json``) run once per backend on each set, nDCG@10 compared.
The ONNX file is exported once into ``<--data-dir>/encoders`` (a temporary directory unless given).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recommender.embedding.encoder import SentenceTransformerEncoder  # noqa: E402
from recommender.embedding.onnx_encoder import OnnxEncoder  # noqa: E402
from recommender.embedding.representation import head_text  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
DEMO = ROOT / "recommender" / "demo_data"


def article_texts(source: Path, limit: int) -> list[str]:
    files = sorted(source.glob("*.jsonl")) if source.is_dir() else [source]
    texts: list[str] = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                texts.append(head_text(row.get("title") or "", row.get("dek") or "",
                                       row.get("body") or ""))
    return texts[:limit]


def speed(texts: list[str], threads: int, rounds: int, cache_dir: Path) -> dict[str, Any]:
    torch = SentenceTransformerEncoder(threads=threads)
    onnx = OnnxEncoder(cache_dir=cache_dir, threads=threads)
    t0 = time.perf_counter()
    onnx.encode(texts[:1])  # export (once per cache dir) and load
    setup = time.perf_counter() - t0
    torch.encode(texts[:1])
    best = {"torch": 0.0, "onnx-int8": 0.0}
    vectors: dict[str, Any] = {}
    for _ in range(rounds):
        for name, encoder in (("torch", torch), ("onnx-int8", onnx)):
            t0 = time.perf_counter()
            vectors[name] = encoder.encode(texts)
            best[name] = max(best[name], len(texts) / (time.perf_counter() - t0))
    cosine = np.sum(vectors["torch"] * vectors["onnx-int8"], axis=1)
    return {"articles": len(texts), "threads": threads, "rounds": rounds,
            "articles_per_s": {k: round(v, 2) for k, v in best.items()},
            "ratio": round(best["onnx-int8"] / best["torch"], 3),
            "cosine_min": round(float(cosine.min()), 4),
            "cosine_mean": round(float(cosine.mean()), 4),
            "onnx_setup_s": round(setup, 1),
            "onnx_file_mb": round(onnx.onnx_path.stat().st_size / 1e6, 1)}


def evaluate(dataset: Path, backend: str, data_dir: Path) -> dict[str, Any]:
    env = {**os.environ, "RELATED_ENCODER_BACKEND": backend, "RELATED_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "recommender", "eval", str(dataset), "--json"],
                          env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"ndcg@10": result["metrics"]["ndcg@10"], "seconds": round(time.perf_counter() - t0, 1),
            "build_seconds": result.get("build_seconds", {})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=Path, default=DEMO,
                        help="a .jsonl file or a directory of them (default: the demo articles)")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-dir", type=Path,
                        help="RELATED_DATA_DIR for the run: keeps the ONNX export between runs")
    parser.add_argument("--eval", nargs="*", type=Path, default=[], metavar="SET")
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        cache_dir = data_dir / "encoders"  # where RELATED_DATA_DIR puts it (backends.py)
        out: dict[str, Any] = {"date": time.strftime("%Y-%m-%d", time.gmtime()),
                               "texts": str(args.texts)}
        if not args.skip_speed:
            out["speed"] = speed(article_texts(args.texts, args.limit), args.threads,
                                 args.rounds, cache_dir)
            print(json.dumps(out["speed"]), file=sys.stderr, flush=True)
        out["eval"] = {}
        for dataset in args.eval:
            row = {b: evaluate(dataset, b, data_dir) for b in ("torch", "onnx-int8")}
            row["delta"] = round(row["onnx-int8"]["ndcg@10"] - row["torch"]["ndcg@10"], 4)
            out["eval"][dataset.name] = row
            print(json.dumps({dataset.name: row}), file=sys.stderr, flush=True)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
