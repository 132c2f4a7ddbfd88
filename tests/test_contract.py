"""The OpenAPI document is the contract: schemathesis over it finds no server error, no
response that differs from the document and no undocumented status, for keys of every role.

Bounded: a fixed seed and example count, on a private copy of the demo knowledge base
(a throwaway database), against a real server on loopback with the real model.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from index.embedder import Embedder
from tests.knowledge_base import KnowledgeBase, copy_knowledge_base, kb_settings
from tests.live_server import serve

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# positive_data_acceptance expects every schema-valid body to be accepted; Stellwerk also
# validates what a schema cannot say (an article's YAML front matter, a slug that exists),
# and answers those with a documented 422 or 404. Every other check runs.
EXCLUDED_CHECKS = "positive_data_acceptance"
ROLES = ("admin", "specialist", "agent", "integration", "contractor")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    demo_knowledge_base: KnowledgeBase,
    real_embedder: Embedder,
) -> Iterator[str]:
    data_dir = copy_knowledge_base(
        demo_knowledge_base, tmp_path_factory.mktemp("contract") / "data"
    )
    settings = kb_settings(data_dir).model_copy(
        # The limits are part of the document (429, 503); here they are wide enough that
        # the run reaches the operations instead of measuring the limits.
        update={"key_requests_per_minute": 0, "auth_failure_burst": 1_000_000}
    )
    with serve(create_app(settings, embedder=real_embedder)) as base_url:
        yield base_url


@pytest.mark.parametrize("role", ROLES)
def test_the_api_answers_as_its_document_says(
    server: str, demo_knowledge_base: KnowledgeBase, role: str, tmp_path: Path
) -> None:
    key = demo_knowledge_base.keys[role]
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--seed",
            "0",
            "--max-examples",
            "5",
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--report-dir",
            str(tmp_path),
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    generated = re.search(r"(\d+) generated", result.stdout)
    assert generated is not None and int(generated.group(1)) > 100, result.stdout[-2000:]
