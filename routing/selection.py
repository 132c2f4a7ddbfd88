"""The classifier chooses its model on the customer's own tickets, by cross-validated log-loss.

Candidates are meta-models over subsets of the base learners' out-of-fold scores: the
neighbour vote alone, the lexical linear models alone (TF-IDF + linear SVMs), the two
blended, and the full stack, pooled (one weight per learner) or logistic (per-team weights),
with and without the second model's learners. Each is scored by its held-out log-loss on
grouped folds (near-duplicates stay on one side); the lowest wins. Since the simpler
stages are candidates, the chosen model is never worse than them on this measure beyond
the noise of the folds, and the report says by how much each lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from routing.meta import Matrix, cross_validated, log_loss_per_ticket

VOTE = ("knn_dense",)
LEXICAL_INPUTS = ("_words", "_chars", "_lexical")


@dataclass(frozen=True)
class Candidate:
    """A meta-model kind over some of the learners."""

    name: str
    learners: tuple[str, ...]
    meta: str


def candidates(
    learners: Sequence[str],
    *,
    second_required: bool,
    only: str | None = None,
    teams: int = 0,
    tickets: int | None = None,
) -> list[Candidate]:
    """The models to choose among, for the learners that were fitted.

    `second_required`: only candidates with the second model's learners (when it is forced
    in); `only`: a single stacked candidate of that meta kind (no choice). The logistic
    meta-model (per-team weights: learners x teams inputs for each of `teams`) is offered
    only when it has no more parameters than there are `tickets`: past that it can only
    overfit (on 97 HBase components it had twice the log-loss of the pooled one) and its
    fit takes minutes.
    """
    second = tuple(name for name in learners if name.endswith("_second"))
    per_team_weights = tickets is None or len(learners) * teams * teams <= tickets
    first = tuple(name for name in learners if name not in second)
    if only is not None:
        return [Candidate("stacked", tuple(learners), only)]
    lexical = tuple(name for name in first if name.endswith(LEXICAL_INPUTS))
    vote = tuple(name for name in first if name in VOTE)
    found: list[Candidate] = []
    if not second_required or not second:
        simple = (("vote", vote), ("lexical", lexical), ("lexical+vote", lexical + vote))
        found += [Candidate(name, subset, "pooled") for name, subset in simple if subset]
        found.append(Candidate("stacked_pooled", first, "pooled"))
        if per_team_weights:
            found.append(Candidate("stacked", first, "logistic"))
    if second:
        found.append(Candidate("stacked_pooled+second", first + second, "pooled"))
        if per_team_weights:
            found.append(Candidate("stacked+second", first + second, "logistic"))
    unique: dict[tuple[tuple[str, ...], str], Candidate] = {}
    for candidate in found:  # "lexical+vote" without a vote learner is "lexical"
        unique.setdefault((candidate.learners, candidate.meta), candidate)
    return list(unique.values())


@dataclass(frozen=True)
class ModelChoice:
    """The chosen candidate, what every candidate scored, and its held-out probabilities."""

    chosen: Candidate
    log_loss: dict[str, float]
    standard_error: dict[str, float]  # of each candidate's difference to the chosen one
    held_out: Matrix = field(repr=False)

    def report(self) -> dict[str, Any]:
        others = sorted(
            (loss, name) for name, loss in self.log_loss.items() if name != self.chosen.name
        )
        reason = f"lowest cross-validated log-loss ({self.log_loss[self.chosen.name]})"
        if others:
            loss, name = others[0]
            reason += f"; next {name} {loss} (±{self.standard_error[name]})"
        return {
            "chosen": self.chosen.name,
            "learners": list(self.chosen.learners),
            "meta": self.chosen.meta,
            "log_loss": dict(self.log_loss),
            "standard_error": dict(self.standard_error),
            "reason": reason,
        }


def choose_model(
    features: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    groups: npt.NDArray[np.int64],
    learners: Sequence[str],
    found: Sequence[Candidate],
    *,
    folds: int,
    seed: int,
    l2: float,
    c: float,
) -> ModelChoice:
    """Score every candidate on the same grouped folds; the lowest mean log-loss wins."""
    position = {name: i for i, name in enumerate(learners)}
    losses: dict[str, Matrix] = {}
    held_out: dict[str, Matrix] = {}
    for candidate in found:
        columns = [position[name] for name in candidate.learners]
        held_out[candidate.name] = cross_validated(
            candidate.meta,
            features[:, :, columns],
            labels,
            groups,
            folds=folds,
            seed=seed,
            l2=l2,
            c=c,
        )
        losses[candidate.name] = log_loss_per_ticket(held_out[candidate.name], labels)
    best = min(found, key=lambda candidate: (float(losses[candidate.name].mean()), candidate.name))
    count = max(1, len(labels))
    return ModelChoice(
        chosen=best,
        log_loss={name: round(float(loss.mean()), 4) for name, loss in losses.items()},
        standard_error={
            name: round(float((loss - losses[best.name]).std() / np.sqrt(count)), 4)
            for name, loss in losses.items()
        },
        held_out=held_out[best.name],
    )


def second_verdict(choice: ModelChoice) -> dict[str, float | bool]:
    """Whether the second model's learners were kept, with the best log-loss either way
    (empty when only one side was a candidate)."""
    with_second = [
        loss
        for candidate_name, loss in choice.log_loss.items()
        if candidate_name.endswith("+second")
    ]
    without = [
        loss
        for candidate_name, loss in choice.log_loss.items()
        if not candidate_name.endswith("+second")
    ]
    if not with_second or not without:
        return {}
    return {
        "log_loss_with_second": min(with_second),
        "log_loss_without_second": min(without),
        "second_kept": any(name.endswith("_second") for name in choice.chosen.learners),
    }
