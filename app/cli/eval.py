"""`stellwerk eval retrieval|routing`: measure retrieval and routing quality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app import components
from app.cli.context import fail_cleanly, load_cli_embedder
from app.settings import Settings

eval_cli = typer.Typer(help="Measure retrieval and routing quality.", no_args_is_help=True)


def _print_summary(result: dict[str, Any]) -> None:
    models = result["model_id"] + (
        f" + {result['second_model_id']}" if result.get("second_model_id") else ""
    )
    typer.echo(f"{result['train']} train / {result['test']} test tickets, {models}")
    for system, figures in result["systems"].items():
        cells = "  ".join(
            f"{name} {figures[name]}"
            for name in ("accuracy", "macro_f1", "top3_accuracy", "accuracy_at_80_coverage", "ece")
        )
        noise = figures.get("ece_noise")
        if noise:
            cells += f" (±{noise['standard_error']}, calibrated floor {noise['if_calibrated']})"
        typer.echo(f"  {system:11} {cells}")
        for language, sub in figures.get("by_language", {}).items():
            typer.echo(f"    {language}: accuracy {sub['accuracy']} (n={sub['n']})")
    if "over_splits" in result:
        over = result["over_splits"]
        typer.echo(f"mean over {len(over['seeds'])} splits (seeds {over['seeds']}):")
        for system, figures in over["systems"].items():
            cells = "  ".join(f"{name} {value['mean']}" for name, value in figures.items())
            typer.echo(f"  {system:11} {cells}")


@eval_cli.command("routing")
def eval_routing(
    train: Annotated[
        Path | None, typer.Option(help="Resolved tickets with a team (JSONL) to train on.")
    ] = None,
    test: Annotated[Path | None, typer.Option(help="Tickets with a team (JSONL) to score.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    sample_train: Annotated[
        int | None, typer.Option(help="Stratified sample of the training tickets.")
    ] = None,
    sample_test: Annotated[
        int | None, typer.Option(help="Stratified sample of the test tickets.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for samples and splits.")] = 0,
    by_language: Annotated[
        bool, typer.Option("--by-language", help="Add the figures per language.")
    ] = False,
    split_by_cluster: Annotated[
        bool,
        typer.Option(
            "--split-by-cluster",
            help="Split --train itself into train and test so that near-duplicates "
            "(cosine above --cluster-threshold) stay on one side.",
        ),
    ] = False,
    cluster_threshold: Annotated[
        float, typer.Option(help="Cosine above which two tickets are near-duplicates.")
    ] = 0.93,
    test_fraction: Annotated[
        float, typer.Option(help="Share of tickets held out with --split-by-cluster.")
    ] = 0.3,
    splits: Annotated[
        int,
        typer.Option(
            min=1,
            help="With --split-by-cluster: this many splits (seeds --seed, --seed + 1, ...), "
            "each figure also as the mean over them (`over_splits`).",
        ),
    ] = 1,
    charters: Annotated[
        Path | None,
        typer.Option(help="Articles folder: also score routing by its team charters alone."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep ticket vectors in this folder (per embedding model, keyed by a hash "
            "of each ticket's text) so that later runs encode only new tickets."
        ),
    ] = None,
) -> None:
    """Score the router against a TF-IDF + LinearSVC baseline on the same tickets."""
    from routing.dataset import read_labelled, stratified_sample
    from routing.errors import DatasetError
    from routing.evaluation import evaluate_cluster_split, evaluate_routing

    def run() -> None:
        if split_by_cluster and (train is None or test is not None):
            raise DatasetError("--split-by-cluster splits the --train file; give no --test.")
        if not split_by_cluster and test is None:
            raise DatasetError("Give --test FILE (or --split-by-cluster to split --train).")
        if splits > 1 and not split_by_cluster:
            raise DatasetError("--splits draws cluster splits: give --split-by-cluster.")
        if train is None and charters is None:
            raise DatasetError("Without --train only charter routing can be scored: --charters.")
        settings = Settings()
        config = components.routing_config_from(settings)
        embedder = load_cli_embedder(settings)
        # Only a trained classifier reads the second model; charters alone never load it.
        second_model = components.load_second_model(settings) if train is not None else None
        second = second_model.embedder if second_model is not None else None
        if split_by_cluster and train is not None:
            result = evaluate_cluster_split(
                stratified_sample(read_labelled(train), sample_train, seed=seed),
                embedder,
                threshold=cluster_threshold,
                test_fraction=test_fraction,
                seed=seed,
                splits=splits,
                config=config,
                charters_folder=charters,
                by_language=by_language,
                show_progress=True,
                cache_dir=cache_dir,
                second=second,
            )
        else:
            train_set = (
                stratified_sample(read_labelled(train), sample_train, seed=seed) if train else []
            )
            test_set = (
                stratified_sample(read_labelled(test), sample_test, seed=seed) if test else []
            )
            result = evaluate_routing(
                train_set,
                test_set,
                embedder,
                config=config,
                charters_folder=charters,
                by_language=by_language,
                show_progress=True,
                cache_dir=cache_dir,
                second=second,
            )
        result["seed"] = seed
        if as_json:
            typer.echo(json.dumps(result))
        else:
            _print_summary(result)

    fail_cleanly(run)


@eval_cli.command("retrieval")
def eval_retrieval_command(
    dataset: Annotated[
        Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Keep the indexed corpus here and reuse it next time (default: temp)."),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep query vectors in this folder (per embedding model, keyed by a hash of "
            "the query) so that later runs encode only new queries."
        ),
    ] = None,
) -> None:
    """Index a retrieval benchmark with the configured model and score bm25, dense, hybrid."""
    import tempfile

    from app.services.retrieval_eval import evaluate_retrieval

    def run() -> None:
        settings = Settings()
        embedder = components.load_configured_embedder(settings)
        with tempfile.TemporaryDirectory(prefix="stellwerk-eval-") as scratch:
            result = evaluate_retrieval(
                dataset,
                embedder,
                workspace or Path(scratch),
                max_words=settings.chunk_max_words,
                exact_max=settings.index_exact_max_vectors,
                default_system=settings.search_system,
                show_progress=True,
                cache_dir=cache_dir,
                second=components.load_search_second_model(settings),
            )
        if as_json:
            typer.echo(json.dumps(result))
            return
        typer.echo(f"{result['dataset']}: {result['queries']} queries, {result['documents']} docs")
        for system, figures in result["systems"].items():
            cells = "  ".join(f"{name} {value}" for name, value in figures.items())
            typer.echo(f"  {system:7} {cells}")

    fail_cleanly(run)


@eval_cli.command("gaps")
def eval_gaps_command(
    dataset: Annotated[
        Path, typer.Argument(help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/")
    ],
    remove_fraction: Annotated[
        float, typer.Option(help="Share of the corpus documents removed from the knowledge base.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed for the documents removed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Keep passage vectors in this folder (per model, keyed by a hash of each "
            "text) so that later runs encode only new texts."
        ),
    ] = None,
) -> None:
    """Remove documents, treat the queries as tickets, and score gap finding (stellwerk, tfidf)."""
    from app.services.gaps_eval import evaluate_gaps

    def run() -> None:
        settings = Settings()
        embedder = load_cli_embedder(settings)
        result = evaluate_gaps(
            dataset,
            embedder,
            remove_fraction=remove_fraction,
            seed=seed,
            max_words=settings.chunk_max_words,
            cache_dir=cache_dir,
            show_progress=True,
        )
        if as_json:
            typer.echo(json.dumps(result))
            return
        typer.echo(
            f"{result['dataset']}: {result['removed']} of {result['documents']} docs removed, "
            f"{result['uncovered']} of {result['queries']} queries uncovered"
        )
        for system, figures in result["systems"].items():
            cells = "  ".join(f"{name} {value}" for name, value in figures.items())
            typer.echo(f"  {system:9} {cells}")

    fail_cleanly(run)
