"""A data folder written by the previous layout (routing under `app/`) starts under this one.

The old folder is made here, not checked in: the demo knowledge base is built with the real
model, then its saved routing model is pickled again the way the previous layout wrote it,
its classes named `app.routing.<module>`, and its manifest checksum rewritten to match.
"""

from __future__ import annotations

import json
import logging
import pickle
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.state import app_state
from index.embedder import Embedder
from index.versioned_dirs import sha256_file
from routing.store import MANIFEST_FILE, MODEL_FILE, _MovedModulesUnpickler, current_version_dir
from tests.auth_helpers import bearer
from tests.knowledge_base import KnowledgeBase, copy_knowledge_base, kb_settings

pytestmark = pytest.mark.slow

README_SUGGEST = {"title": "Outlook startet nicht mehr nach dem Update", "description": ""}
README_SEARCH = {"query": "VPN drops every 10 minutes", "k": 5, "filters": {"kind": "article"}}

# (module, name) of a pickled global -> the module the previous layout named instead
Renaming = Callable[[str, str], str]


def previous_layout(module: str, name: str) -> str:
    return f"app.{module}"


class _Recording(_MovedModulesUnpickler):
    """Loads as the service does, and notes every global the file names."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__(handle)
        self.names: set[tuple[str, str]] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.names.add((module, name))
        return super().find_class(module, name)


def names_in(path: Path) -> set[tuple[str, str]]:
    """The (module, name) of every global the pickle refers to."""
    with path.open("rb") as handle:
        recording = _Recording(handle)
        recording.load()
    return recording.names


def rewrite_saved_model(version_dir: Path, rename: Renaming) -> bytes:
    """Pickle the saved model again with its routing globals named `rename(module, name)`,
    and give the manifest that file's checksum; returns the file as it was before.

    The classes are renamed only while pickling: `sys.modules` gets aliases under the
    old names and the classes the old `__module__`; both are restored afterwards.
    """
    model_path = version_dir / MODEL_FILE
    before = names_in(model_path)
    with model_path.open("rb") as handle:
        model = pickle.load(handle)  # noqa: S301 - the file this test's template wrote
    ours = {(m, n) for m, n in before if m.split(".")[0] == "routing"}
    aliases: dict[str, ModuleType] = {"app.routing": sys.modules["routing"]}
    objects: dict[str, Any] = {}
    for module, name in ours:
        old = rename(module, name)
        assert aliases.setdefault(old, sys.modules[module]) is sys.modules[module], old
        objects[f"{module}.{name}"] = getattr(sys.modules[module], name)
    replaced = {alias: sys.modules.get(alias) for alias in aliases}
    modules = {key: obj.__module__ for key, obj in objects.items()}
    try:
        sys.modules.update(aliases)
        for module, name in ours:
            objects[f"{module}.{name}"].__module__ = rename(module, name)
        data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        for key, obj in objects.items():
            obj.__module__ = modules[key]
        for alias, previous in replaced.items():
            if previous is None:
                del sys.modules[alias]
            else:
                sys.modules[alias] = previous
    original = model_path.read_bytes()
    model_path.write_bytes(data)
    manifest_path = version_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["checksum"] = sha256_file(model_path)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    return original


def without_shared_models(data_dir: Path) -> None:
    """A data folder of an earlier layout has no routing model in the database (migration
    0006 adds the table empty): only the one on disk."""
    with closing(sqlite3.connect(data_dir / "stellwerk.db")) as db, db:
        db.execute("DELETE FROM routing_models")


@contextmanager
def serving(data_dir: Path, keys: dict[str, str], embedder: Embedder) -> Iterator[TestClient]:
    app = create_app(kb_settings(data_dir), embedder=embedder)
    with TestClient(app) as client:
        client.headers.update(bearer(keys["agent"]))
        yield client


def readme_answers(client: TestClient) -> dict[str, Any]:
    """What the README's two example requests answer, as far as the comparison goes."""
    suggested = client.post("/api/v1/suggest", json=README_SUGGEST)
    assert suggested.status_code == 200, suggested.text
    searched = client.post("/api/v1/search", json=README_SEARCH)
    assert searched.status_code == 200, searched.text
    body = suggested.json()
    return {
        "solutions": [s["id"] for s in body["solutions"]],
        "team": body["team"]["name"],
        "escalation": body["escalation"]["action"],
        "search": [h["id"] for h in searched.json()["hits"]],
    }


def test_routing_model_of_the_previous_layout_is_served_without_a_retrain(
    tmp_path: Path,
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    control = copy_knowledge_base(demo_knowledge_base, tmp_path / "control")
    previous = copy_knowledge_base(demo_knowledge_base, tmp_path / "previous")
    without_shared_models(previous)
    version_dir = current_version_dir(previous / "routing")
    assert version_dir is not None
    model_path = version_dir / MODEL_FILE
    before = names_in(model_path)
    original = rewrite_saved_model(version_dir, previous_layout)
    moved = {(m, n) for m, n in before if m.split(".")[0] == "routing"}
    assert ("routing.staged", "RoutingModel") in moved
    assert names_in(model_path) == (before - moved) | {(f"app.{m}", n) for m, n in moved}
    # Only the module paths differ: read back and pickled as today, it is the same file.
    with model_path.open("rb") as handle:
        again = _MovedModulesUnpickler(handle).load()
    assert pickle.dumps(again, protocol=pickle.HIGHEST_PROTOCOL) == original
    with model_path.open("rb") as handle, pytest.raises(ImportError, match=r"app\.routing"):
        pickle.load(handle)  # noqa: S301 - plain pickle no longer finds the old modules
    saved = json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    checksum = sha256_file(model_path)

    caplog.clear()
    caplog.set_level(logging.INFO, logger="stellwerk")
    with serving(previous, demo_knowledge_base.keys, real_embedder) as client:
        status = app_state(client.app).ready().router.status()
        upgraded = readme_answers(client)
    assert (status.stage, status.trained_at) == (saved["stage"], saved["trained_at"])
    assert (status.training, status.last_outcome) == (False, None)
    assert not [r for r in caplog.records if "routing model not loaded" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # Nothing was trained or saved over it.
    assert current_version_dir(previous / "routing") == version_dir
    assert sha256_file(model_path) == checksum

    with serving(control, demo_knowledge_base.keys, real_embedder) as client:
        fresh = readme_answers(client)
    assert upgraded == fresh
    assert upgraded["solutions"] and upgraded["team"] == "messaging"
    assert upgraded["search"][0] == "article:vpn-drops-every-few-minutes"


def test_routing_model_naming_a_removed_module_is_retrained_in_the_background(
    tmp_path: Path,
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data_dir = copy_knowledge_base(demo_knowledge_base, tmp_path / "data")
    without_shared_models(data_dir)
    version_dir = current_version_dir(data_dir / "routing")
    assert version_dir is not None

    def gone(module: str, name: str) -> str:
        return "app.routing.gone" if name == "RoutingModel" else previous_layout(module, name)

    rewrite_saved_model(version_dir, gone)
    assert b"app.routing.gone" in (version_dir / MODEL_FILE).read_bytes()
    saved = json.loads((version_dir / MANIFEST_FILE).read_text(encoding="utf-8"))

    caplog.clear()
    caplog.set_level(logging.INFO, logger="stellwerk")
    with serving(data_dir, demo_knowledge_base.keys, real_embedder) as client:
        router = app_state(client.app).ready().router
        assert router.wait_idle(timeout=300)
        status = router.status()
        suggested = client.post("/api/v1/suggest", json=README_SUGGEST)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in warnings] == [("stellwerk.routing", "WARNING")]
    message = warnings[0].getMessage()
    assert message.startswith("routing model not loaded: ")
    assert "cannot be read by this version" in message
    assert "routing.gone" in message
    assert (status.stage, status.last_outcome) == ("vote", "trained")
    assert status.trained_at != saved["trained_at"]
    assert any(r.getMessage().startswith("routing model trained") for r in caplog.records)
    assert suggested.status_code == 200, suggested.text
    team = suggested.json()["team"]
    assert (team["name"], team["stage"]) == ("messaging", "vote")
