"""Errors of the router; they know no HTTP: the app maps them to the one error shape."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of routing failures."""

    code = "routing_error"


class RoutingModelMismatch(RoutingError):
    """A saved routing model was trained on embeddings of another model."""

    code = "routing_model_mismatch"


class RoutingModelCorrupt(RoutingError):
    """A saved routing model's files do not match its manifest."""

    code = "routing_model_corrupt"


class TrainingRejected(RoutingError):
    """The training set cannot produce a model (too small, one team only)."""

    code = "routing_training_rejected"


class DatasetError(RoutingError):
    """A ticket file cannot be used for a routing evaluation."""

    code = "routing_dataset_invalid"
