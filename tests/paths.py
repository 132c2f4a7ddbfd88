"""Where the tests find the repository, the shared benchmark data and the model cache."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
# The converted default model is cached where `make run` caches it, so it is built once.
MODEL_CACHE = Path(os.environ.get("STELLWERK_TEST_MODEL_CACHE", REPO_ROOT / "var" / "models"))
