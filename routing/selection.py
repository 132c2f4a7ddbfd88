"""The classifier chooses its model on the customer's own tickets, by cross-validated log-loss.

Candidates are meta-models over subsets of the base learners' out-of-fold scores: the
neighbour vote alone, the lexical linear models alone (TF-IDF + linear SVMs), the two
blended, and the full stack, pooled (one weight per learner), per-team (those weights with
a penalised deviation per team) or logistic (every learner's score of every team), with and
without the second model's learners. Each is scored by its held-out log-loss on
grouped folds (near-duplicates stay on one side); the lowest wins. Since the simpler
stages are candidates, the chosen model is never worse than them on this measure beyond
the noise of the folds, and the report says by how much each lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from routing.class_weights import alpha_name
from routing.meta import Matrix, cross_validated, log_loss_per_ticket

VOTE = ("knn_dense",)
LEXICAL_INPUTS = ("_words", "_chars", "_lexical")
# How many standard errors of the per-ticket difference another class-weight alpha must
# win by before it replaces the balanced weights the router was tuned with on every set.
ALPHA_MARGIN = 2.0


@dataclass(frozen=True)
class Candidate:
    """A meta-model kind over some of the learners, fitted with class weights n^-alpha."""

    name: str
    learners: tuple[str, ...]
    meta: str
    alpha: float = 1.0  # routing.class_weights; 1: balanced


def with_alphas(found: Sequence[Candidate], alphas: Sequence[float]) -> list[Candidate]:
    """Every candidate once per class-weight alpha, named `<name>@alpha=<a>` (balanced keeps
    its plain name)."""
    return [
        replace(candidate, name=candidate.name + alpha_name(alpha), alpha=alpha)
        for alpha in alphas
        for candidate in found
    ]


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
    logistic_fits = tickets is None or len(learners) * teams * teams <= tickets
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
        found.append(Candidate("stacked_per_team", first, "per_team"))
        if logistic_fits:
            found.append(Candidate("stacked", first, "logistic"))
    if second:
        found.append(Candidate("stacked_pooled+second", first + second, "pooled"))
        found.append(Candidate("stacked_per_team+second", first + second, "per_team"))
        if logistic_fits:
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
    candidates: tuple[Candidate, ...] = ()

    def report(self) -> dict[str, Any]:
        others = sorted(
            (loss, name) for name, loss in self.log_loss.items() if name != self.chosen.name
        )
        chosen_loss = self.log_loss[self.chosen.name]
        lowest = min(self.log_loss.values())
        if chosen_loss > lowest:
            reason = (
                f"balanced class weights: cross-validated log-loss {chosen_loss}, within "
                f"{ALPHA_MARGIN:g} standard errors of the lowest"
            )
        else:
            reason = f"lowest cross-validated log-loss ({chosen_loss})"
        if others:
            loss, name = others[0]
            reason += f"; next {name} {loss} (±{self.standard_error[name]})"
        by_alpha = self.log_loss_by_alpha()
        if len(by_alpha) > 1:
            reason += "; class weights n^-alpha, best log-loss per alpha: " + ", ".join(
                f"{alpha:g} {loss}" for alpha, loss in sorted(by_alpha.items())
            )
        return {
            "chosen": self.chosen.name,
            "learners": list(self.chosen.learners),
            "meta": self.chosen.meta,
            "class_weight_alpha": self.chosen.alpha,
            "log_loss_by_alpha": {f"{alpha:g}": loss for alpha, loss in by_alpha.items()},
            "log_loss": dict(self.log_loss),
            "standard_error": dict(self.standard_error),
            "reason": reason,
        }

    def log_loss_by_alpha(self) -> dict[float, float]:
        """The best candidate's log-loss at each class-weight alpha."""
        best: dict[float, float] = {}
        for candidate in self.candidates:
            loss = self.log_loss[candidate.name]
            best[candidate.alpha] = min(loss, best.get(candidate.alpha, loss))
        return best


def choose_model(
    features: npt.NDArray[np.float64] | Mapping[float, npt.NDArray[np.float64]],
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
    """Score every candidate on the same grouped folds; the lowest mean log-loss wins.

    `features`: the learners' out-of-fold scores, or one such array per class-weight alpha
    (a candidate reads the one of its `alpha`).
    """
    by_alpha = features if isinstance(features, Mapping) else {1.0: features}
    position = {name: i for i, name in enumerate(learners)}
    losses: dict[str, Matrix] = {}
    held_out: dict[str, Matrix] = {}
    for candidate in found:
        columns = [position[name] for name in candidate.learners]
        held_out[candidate.name] = cross_validated(
            candidate.meta,
            by_alpha[candidate.alpha][:, :, columns],
            labels,
            groups,
            folds=folds,
            seed=seed,
            l2=l2,
            c=c,
        )
        losses[candidate.name] = log_loss_per_ticket(held_out[candidate.name], labels)
    best = min(found, key=lambda candidate: (float(losses[candidate.name].mean()), candidate.name))
    best = _balanced_unless_clearly_beaten(best, found, losses)
    count = max(1, len(labels))
    return ModelChoice(
        chosen=best,
        log_loss={name: round(float(loss.mean()), 4) for name, loss in losses.items()},
        standard_error={
            name: round(float((loss - losses[best.name]).std() / np.sqrt(count)), 4)
            for name, loss in losses.items()
        },
        held_out=held_out[best.name],
        candidates=tuple(found),
    )


def _balanced_unless_clearly_beaten(
    best: Candidate, found: Sequence[Candidate], losses: Mapping[str, Matrix]
) -> Candidate:
    """The best balanced (alpha 1) candidate, unless `best` beats it by more than
    `ALPHA_MARGIN` standard errors: on 896 support tickets alpha 0 won by 0.001 (a third of
    one standard error) and cost 1.3 points of accuracy on the test tickets."""
    balanced = [candidate for candidate in found if candidate.alpha == 1.0]
    if best.alpha == 1.0 or not balanced:
        return best
    incumbent = min(balanced, key=lambda c: (float(losses[c.name].mean()), c.name))
    gain = losses[incumbent.name] - losses[best.name]
    error = float(gain.std() / np.sqrt(max(1, len(gain))))
    return best if float(gain.mean()) > ALPHA_MARGIN * error else incumbent


def second_verdict(choice: ModelChoice) -> dict[str, float | bool]:
    """Whether the second model's learners were kept, with the best log-loss either way
    (empty when only one side was a candidate)."""
    reads_second = {
        candidate.name: any(name.endswith("_second") for name in candidate.learners)
        for candidate in choice.candidates
    }
    with_second = [loss for name, loss in choice.log_loss.items() if reads_second[name]]
    without = [loss for name, loss in choice.log_loss.items() if not reads_second[name]]
    if not with_second or not without:
        return {}
    return {
        "log_loss_with_second": min(with_second),
        "log_loss_without_second": min(without),
        "second_kept": any(name.endswith("_second") for name in choice.chosen.learners),
    }
