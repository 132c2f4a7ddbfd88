"""Errors of the router; subclasses of the app's error base so the CLI and API report them."""

from __future__ import annotations

from app.errors import InvalidInput, StellwerkError


class RoutingError(StellwerkError):
    status = 500
    code = "routing_error"


class RoutingModelMismatch(RoutingError):
    """A saved routing model was trained on embeddings of another model."""

    status = 409
    code = "routing_model_mismatch"


class RoutingModelCorrupt(RoutingError):
    """A saved routing model's files do not match its manifest."""

    code = "routing_model_corrupt"


class TrainingRejected(RoutingError):
    """The training set cannot produce a model (too small, one team only)."""

    status = 422
    code = "routing_training_rejected"


class DatasetError(InvalidInput):
    """A ticket file cannot be used for a routing evaluation."""

    code = "routing_dataset_invalid"
