"""`stellwerk routing train|status` and `stellwerk eval routing`: the router's commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_support import (
    cli_context,
    fail_cleanly,
    load_cli_embedder,
    train_router,
)
from app.settings import Settings

routing_cli = typer.Typer(help="Train and inspect the team router.", no_args_is_help=True)


@routing_cli.command("train")
def train_command() -> None:
    """Train the router from the team charters and resolved tickets in the database."""

    def run() -> None:
        with cli_context() as ctx:
            status = train_router(ctx, load_cli_embedder(ctx.settings))
        if status.last_outcome != "trained":
            typer.echo(f"error: {status.last_reason}", err=True)
            raise typer.Exit(1)
        typer.echo(f"routing: {status.last_reason}; teams {status.teams}")

    fail_cleanly(run)


@routing_cli.command("status")
def status_command() -> None:
    """Show the saved routing model: stage, tickets per team, embedding model, when trained."""
    from routing.service import describe_training
    from routing.store import current_version_dir, read_routing_manifest

    def run() -> None:
        version = current_version_dir(Settings().routing_dir)
        if version is None:
            typer.echo("routing: no trained model (run `stellwerk routing train`)")
            return
        manifest = read_routing_manifest(version)
        models = manifest.model_id + (
            f" + {manifest.second_model_id}" if manifest.second_model_id else ""
        )
        typer.echo(
            f"routing: {manifest.stage} model {version.name}, {manifest.tickets} tickets, "
            f"embedding model {models}, trained {manifest.trained_at}"
        )
        typer.echo(f"  {describe_training(manifest)}")
        if manifest.metrics.get("learners"):
            typer.echo(f"  learners: {', '.join(manifest.metrics['learners'])}")
        for team, count in manifest.teams.items():
            typer.echo(f"  {team}: {count}")
        if manifest.charters:
            typer.echo(f"  charters: {', '.join(manifest.charters)}")

    fail_cleanly(run)


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
        typer.echo(f"  {system:11} {cells}")
        for language, sub in figures.get("by_language", {}).items():
            typer.echo(f"    {language}: accuracy {sub['accuracy']} (n={sub['n']})")


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
    from app.components import load_second_model, routing_config_from
    from routing.dataset import read_labelled, stratified_sample
    from routing.errors import DatasetError
    from routing.evaluation import evaluate_cluster_split, evaluate_routing

    def run() -> None:
        if split_by_cluster and (train is None or test is not None):
            raise DatasetError("--split-by-cluster splits the --train file; give no --test.")
        if not split_by_cluster and test is None:
            raise DatasetError("Give --test FILE (or --split-by-cluster to split --train).")
        if train is None and charters is None:
            raise DatasetError("Without --train only charter routing can be scored: --charters.")
        settings = Settings()
        config = routing_config_from(settings)
        embedder = load_cli_embedder(settings)
        # Only a trained classifier reads the second model; charters alone never load it.
        second_model = load_second_model(settings) if train is not None else None
        second = second_model.embedder if second_model is not None else None
        if split_by_cluster and train is not None:
            result = evaluate_cluster_split(
                stratified_sample(read_labelled(train), sample_train, seed=seed),
                embedder,
                threshold=cluster_threshold,
                test_fraction=test_fraction,
                seed=seed,
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
