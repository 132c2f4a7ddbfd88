"""Encode speed and agreement of the engines: torch fp32, ONNX fp32, ONNX int8, alternated.

The same 500 held-out ticket texts (bench.corpus.held_out_queries: half Endava test tickets,
half held-out support tickets) are encoded as queries (one call per text, as /search and
/suggest do) and as passages (one ingest call for all of them, as the pipeline does), on one
and on two threads. The engines take turns text by text (queries) and round by round
(passages), so background load falls on all of them alike; the ratios are the figures to read.

The baseline is torch fp32 as today's ingest called it before this engine existed: passages
in consecutive slices of about one full passage, in input order (no sorting by length).
Agreement: cosine of each engine's vectors with torch fp32's, top-1 and top-10 overlap of
the 500 queries' nearest passages, and the same for int8 queries against fp32 passages
(what a snapshot of one engine queried by another sees). `--per-tensor` adds dynamic int8
with one scale per tensor instead of per channel (quantised into a temp folder).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import DEFAULT_MODEL, MODEL_CACHE, format_table, load_note, print_json_line
from bench.corpus import held_out_queries
from index.embedder import (
    Embedder,
    SentenceTransformerEmbedder,
    Vectors,
    default_engine,
    load_embedder,
    resolve_model,
)
from index.encoder_gate import bulk_threads, slices
from index.models.onnx_export import INT8_FILE, OnnxModelFiles, materialize_onnx
from index.onnx_embedder import OnnxEmbedder

K = 10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="Passage rounds per engine.")
    parser.add_argument(
        "--timed",
        type=int,
        default=0,
        help="Time only the first N texts (0: all); agreement always uses every text.",
    )
    parser.add_argument("--per-tensor", action="store_true", help="Also per-tensor int8.")
    parser.add_argument(
        "--threads", default="1,2", help="Thread counts for the queries, comma-separated."
    )
    return parser.parse_args()


def torch_as_before(embedder: SentenceTransformerEmbedder, texts: list[str]) -> Vectors:
    """The ingest path before length sorting: unsorted slices, one bulk turn each."""
    prefix = embedder._spec.document_prefix
    prefixed = [prefix + text for text in texts]
    parts = [
        embedder._forward(prefixed[start:end], False, threads=bulk_threads())
        for start, end in slices(prefixed)
    ]
    return np.concatenate(parts)


def per_tensor_files(model: str, workdir: Path) -> OnnxModelFiles:
    """Dynamic int8 with per-tensor scales, beside the cached per-channel export."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    spec = resolve_model(model, MODEL_CACHE)
    cached = materialize_onnx(Path(spec.path), MODEL_CACHE, name=spec.model_id)
    shutil.copyfile(cached.tokenizer, workdir / cached.tokenizer.name)
    shutil.copyfile(cached.fp32, workdir / cached.fp32.name)
    quantize_dynamic(
        str(cached.fp32), str(workdir / INT8_FILE), weight_type=QuantType.QInt8, per_channel=False
    )
    return OnnxModelFiles(
        folder=workdir, max_seq_length=cached.max_seq_length, pad_id=cached.pad_id
    )


def with_threads(embedder: Embedder, threads: int) -> Callable[[], None]:
    """Before each torch turn: torch's thread count is per process (OpenMP), ORT's per session."""

    def apply() -> None:
        if isinstance(embedder, SentenceTransformerEmbedder):
            import torch

            torch.set_num_threads(threads)

    return apply


def cosines(a: Vectors, b: Vectors) -> Vectors:
    return np.asarray((a * b).sum(axis=1), dtype=np.float32)


def neighbours(queries: Vectors, passages: Vectors) -> np.ndarray:
    scores = queries @ passages.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :K]


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    top1 = float(np.mean(a[:, 0] == b[:, 0]))
    top10 = float(np.mean([len(set(x) & set(y)) / K for x, y in zip(a, b, strict=True)]))
    return top1, top10


def main() -> None:
    args = parse_args()
    thread_counts = tuple(int(n) for n in args.threads.split(","))
    print(load_note())
    texts = [q.text() for q in held_out_queries(args.texts)][: args.texts]
    workdir = Path(tempfile.mkdtemp(prefix="stellwerk-bench-encode-"))
    engines: dict[str, dict[int, Embedder]] = {}
    tensor_files = per_tensor_files(args.model, workdir) if args.per_tensor else None
    torch_model = load_embedder(args.model, cache_dir=MODEL_CACHE, engine="torch")
    for threads in thread_counts:
        engines.setdefault("torch", {})[threads] = torch_model  # threads set per turn
        for engine in ("onnx", "onnx-int8"):
            engines.setdefault(engine, {})[threads] = load_embedder(
                args.model, cache_dir=MODEL_CACHE, engine=engine, threads=threads
            )
        if tensor_files is not None:
            base = engines["onnx-int8"][threads]
            assert isinstance(base, OnnxEmbedder)
            engines.setdefault("onnx-int8-tensor", {})[threads] = OnnxEmbedder(
                base._spec, tensor_files, quantized=True, threads=threads
            )
    names = list(engines)
    torch_base = engines["torch"][1]
    assert isinstance(torch_base, SentenceTransformerEmbedder)
    tokens = torch_base.token_counts([torch_base._spec.query_prefix + t for t in texts])
    print(
        f"{len(texts)} texts, tokens median {statistics.median(tokens):.0f} "
        f"mean {statistics.mean(tokens):.0f}; engines {', '.join(names)}; model "
        f"{torch_base.model_id}; long work runs on {bulk_threads()} thread(s) (cores - 1)"
    )
    timed = texts[: args.timed or len(texts)]
    print(f"timing {len(timed)} of them; agreement on all {len(texts)}", flush=True)
    query_ms: dict[tuple[str, int], list[float]] = {}
    for threads in thread_counts:
        for name in names:  # warm-up
            with_threads(engines[name][threads], threads)()
            engines[name][threads].encode_queries(texts[:5])
        for i, text in enumerate(timed):
            turn = names[i % len(names) :] + names[: i % len(names)]
            for name in turn:
                embedder = engines[name][threads]
                with_threads(embedder, threads)()
                started = time.perf_counter()
                embedder.encode_queries([text])
                query_ms.setdefault((name, threads), []).append(
                    (time.perf_counter() - started) * 1000
                )
            if i % 50 == 49:
                print(f"  queries, {threads} thread(s): {i + 1} done", flush=True)
        medians = {n: statistics.median(query_ms[(n, threads)]) for n in names}
        print(f"  query ms p50, {threads} thread(s): {medians}", flush=True)
    passage_rate: dict[tuple[str, int], list[float]] = {}
    baseline = "torch, as before"
    # Passages go the ingest's way, the bulk lane, which leaves a core free: on this 2-core
    # machine that is one thread whatever the setting, so they are measured once, on one.
    for threads in thread_counts[:1]:
        for round_number in range(args.rounds):
            turn = [baseline, *names]
            turn = turn[round_number % len(turn) :] + turn[: round_number % len(turn)]
            for name in turn:
                embedder = engines["torch" if name == baseline else name][threads]
                with_threads(embedder, threads)()
                started = time.perf_counter()
                if name == baseline:
                    assert isinstance(embedder, SentenceTransformerEmbedder)
                    torch_as_before(embedder, timed)
                else:
                    embedder.encode_documents(timed)
                rate = len(timed) / (time.perf_counter() - started)
                passage_rate.setdefault((name, threads), []).append(rate)
                print(f"  passages, round {round_number + 1}: {name} {rate:.1f}/s", flush=True)
    # Agreement: every text, as queries one call each (as served) and as passages (ingest).
    with_threads(torch_model, 1)()
    query_vectors = {
        name: np.concatenate([engines[name][1].encode_queries([text]) for text in texts])
        for name in names
    }
    passage_vectors = {name: engines[name][1].encode_documents(texts) for name in names}
    report(names, baseline, query_ms, passage_rate, query_vectors, passage_vectors, thread_counts)
    shutil.rmtree(workdir, ignore_errors=True)


def report(
    names: list[str],
    baseline: str,
    query_ms: dict[tuple[str, int], list[float]],
    passage_rate: dict[tuple[str, int], list[float]],
    query_vectors: dict[str, Vectors],
    passage_vectors: dict[str, Vectors],
    thread_counts: tuple[int, ...],
) -> None:
    base_query = statistics.median(query_ms[("torch", 1)])
    base_passage = statistics.median(passage_rate[(baseline, 1)])
    rows = []
    for name in [baseline, *names]:
        for threads in thread_counts:
            ms = query_ms.get((name, threads))
            rates = passage_rate.get((name, threads))
            rate = statistics.median(rates) if rates else float("nan")
            rows.append(
                [
                    name,
                    threads,
                    f"{statistics.median(ms):.1f}" if ms else "-",
                    f"{base_query / statistics.median(ms):.2f}" if ms else "-",
                    f"{rate:.1f}" if rates else "-",
                    f"{rate / base_passage:.2f}" if rates else "-",
                ]
            )
    print(
        format_table(
            ["engine", "threads", "query ms p50", "x torch 1t", "passages/s", "x torch-before 1t"],
            rows,
        )
    )
    reference_q = query_vectors["torch"]
    reference_p = passage_vectors["torch"]
    reference_top = neighbours(reference_q, reference_p)
    agreement = {}
    rows = []
    for name in names:
        q = query_vectors[name]
        p = passage_vectors[name]
        both = np.concatenate([cosines(q, reference_q), cosines(p, reference_p)])
        top1, top10 = overlap(neighbours(q, p), reference_top)
        mixed1, mixed10 = overlap(neighbours(q, reference_p), reference_top)
        agreement[name] = (float(both.min()), float(both.mean()))
        rows.append(
            [
                name,
                f"{both.mean():.4f}",
                f"{both.min():.4f}",
                f"{top1:.3f}",
                f"{top10:.3f}",
                f"{mixed1:.3f}",
                f"{mixed10:.3f}",
            ]
        )
    print("agreement with torch fp32 (queries and passages; neighbours: 500 queries x 500)")
    print(
        format_table(
            [
                "engine",
                "cosine mean",
                "cosine min",
                "top-1 same",
                "top-10 overlap",
                "top-1, vs torch passages",
                "top-10, vs torch passages",
            ],
            rows,
        )
    )
    default_ms = statistics.median(query_ms[(default_engine(), 1)])
    default_rate = statistics.median(passage_rate[(default_engine(), 1)])
    print_json_line(
        "encode_speed",
        {
            "default_engine": default_engine(),
            "query_speedup": round(base_query / default_ms, 2),
            "passage_speedup": round(default_rate / base_passage, 2),
            "cosine_min": round(agreement[default_engine()][0], 4),
            "cosine_mean": round(agreement[default_engine()][1], 4),
        },
    )


if __name__ == "__main__":
    main()
