"""`stellwerk connectors ...`: add, list (never a secret), test, import with its summary,
the delivery log, retry, remove; contractor firms."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.connectors.fake_tools import FakeTool, glpi_app, jira_app, serve, zammad_app, znuny_app
from tests.connectors.test_import import _zammad
from tests.fakes import HashingEmbedder

runner = CliRunner()
SECRET = "very-secret-webhook-value"
TOKEN = "very-secret-api-token"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("STELLWERK_DATA_DIR", str(data_dir))
    monkeypatch.delenv("STELLWERK_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        "app.components.load_configured_embedder",
        lambda settings: HashingEmbedder(model_id=f"fake-{settings.embedding_model}"),
    )
    monkeypatch.setenv("STELLWERK_EMBEDDING_MODEL", "a")
    return data_dir


def _add(url: str, *extra: str) -> None:
    result = runner.invoke(
        cli,
        ["connectors", "add", "zammad", "--name", "zammad", "--url", url, "--secret", SECRET,
         "--token", TOKEN, "--write-back", "--map", "Service Desk=dispatch",
         "--map", "Arbeitsplatz=workplace", *extra],
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_add_list_remove_never_show_the_secret(env: Path) -> None:
    _add("https://zammad.example.com/")
    listed = runner.invoke(cli, ["connectors", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.split("\t") == [
        "zammad",
        "zammad",
        "https://zammad.example.com",
        "secret token write-back",
        "Service Desk=dispatch,Arbeitsplatz=workplace\n",
    ]
    again = runner.invoke(
        cli, ["connectors", "add", "zammad", "--name", "zammad", "--url", "https://x.example"]
    )
    assert again.exit_code == 1 and "exists" in again.output
    unknown = runner.invoke(
        cli, ["connectors", "add", "otrs", "--name", "o", "--url", "https://x.example"]
    )
    assert unknown.exit_code == 1 and "Unknown tool" in unknown.output
    bad_map = runner.invoke(
        cli,
        ["connectors", "add", "jira", "--name", "j", "--url", "https://x.example", "--map", "x"],
    )
    assert bad_map.exit_code == 1 and "TOOL_GROUP=team" in bad_map.output
    assert runner.invoke(cli, ["connectors", "remove", "zammad"]).exit_code == 0
    assert runner.invoke(cli, ["connectors", "list"]).output == ""
    missing = runner.invoke(cli, ["connectors", "remove", "zammad"])
    assert missing.exit_code == 1 and "No connector" in missing.output
    for result in (listed, again):
        assert SECRET not in result.output and TOKEN not in result.output


def test_test_import_and_the_delivery_log(env: Path) -> None:
    tool = FakeTool(token=TOKEN, closed=[_zammad(n) for n in range(55)])
    tool.faults["/api/v1/tickets/search"] = [503]
    with serve(zammad_app(tool)) as url:
        _add(url)
        checked = runner.invoke(cli, ["connectors", "test", "zammad"])
        assert checked.exit_code == 0, checked.output
        assert checked.output == "zammad: Zammad answered as stellwerk@example.com\n"
        imported = runner.invoke(cli, ["connectors", "import", "zammad", "--since", "2026-09-01"])
        assert imported.exit_code == 0, imported.output
        assert (
            "imported 55 closed tickets from zammad in 2 pages: 55 added, 0 updated, 0 unchanged"
            in imported.output
        )
        search = tool.calls("GET", "/api/v1/tickets/search")[-1]
        assert search.query["query"] == "state.name:closed AND updated_at:>=2026-09-01"
    log = runner.invoke(cli, ["connectors", "deliveries"])
    assert log.exit_code == 0 and "deliveries: none" in log.output
    assert TOKEN not in imported.output + checked.output


def test_test_reports_a_refused_token_in_one_line(env: Path) -> None:
    tool = FakeTool(token="another-token")
    with serve(zammad_app(tool)) as url:
        _add(url)
        checked = runner.invoke(cli, ["connectors", "test", "zammad"])
    assert checked.exit_code == 1
    assert checked.output == "error: GET /api/v1/users/me: the tool answered 401\n"


def test_retry_requeues_failed_deliveries(env: Path) -> None:
    from sqlalchemy import select

    from app.settings import Settings
    from db.models import OutboxItem
    from db.session import create_db_engine, migrate, session_factory

    env.mkdir(parents=True)
    engine = create_db_engine(Settings(_env_file=None).resolved_database_url)  # type: ignore[call-arg]
    migrate(engine)
    with session_factory(engine)() as session, session.begin():
        session.add(
            OutboxItem(
                connector="zammad",
                kind="note",
                target="ticket:zammad:1",
                payload={},
                status="failed",
                attempts=10,
                last_error="401",
            )
        )
    log = runner.invoke(cli, ["connectors", "deliveries", "--status", "failed"])
    assert "\tzammad\tnote\tticket:zammad:1\tfailed\tattempts 10\t401" in log.output
    assert runner.invoke(cli, ["connectors", "retry"]).output == "queued 1 deliveries again\n"
    with session_factory(engine)() as session:
        item = session.scalars(select(OutboxItem)).one()
        assert (item.status, item.attempts) == ("pending", 0)
    engine.dispose()


def test_firm_endpoints(env: Path) -> None:
    added = runner.invoke(
        cli,
        ["connectors", "firm", "add", "NordNetz Services GmbH", "--url", "https://nordnetz.example/hook",
         "--secret", "firm-secret-0123456789"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["connectors", "firm", "list"])
    assert listed.output == "NordNetz Services GmbH\thttps://nordnetz.example/hook\n"
    short = runner.invoke(
        cli, ["connectors", "firm", "add", "X", "--url", "https://x.example", "--secret", "short"]
    )
    assert short.exit_code == 1 and "16 characters" in short.output
    assert (
        runner.invoke(cli, ["connectors", "firm", "remove", "nordnetz services gmbh"]).exit_code
        == 0
    )


@pytest.mark.parametrize(
    ("tool_name", "token", "answer"),
    [
        ("jira", "bot@example.com:api-token", "Jira answered as Stellwerk"),
        ("znuny", "stellwerk:pass", "Znuny's TicketSearch answered"),
        ("glpi", "glpi-user-token", "GLPI opened a session"),
    ],
)
def test_test_calls_each_tool_with_its_token(
    env: Path, tool_name: str, token: str, answer: str
) -> None:
    apps = {"jira": jira_app, "znuny": znuny_app, "glpi": glpi_app}
    tool = FakeTool(token=token)
    with serve(apps[tool_name](tool)) as url:
        added = runner.invoke(
            cli, ["connectors", "add", tool_name, "--name", "t", "--url", url, "--token", token]
        )
        assert added.exit_code == 0, added.output
        checked = runner.invoke(cli, ["connectors", "test", "t"])
        assert (checked.exit_code, checked.output) == (0, f"t: {answer}\n")
        runner.invoke(cli, ["connectors", "remove", "t"])
        wrong = runner.invoke(
            cli, ["connectors", "add", tool_name, "--name", "t", "--url", url, "--token", "x:y"]
        )
        assert wrong.exit_code == 0
        refused = runner.invoke(cli, ["connectors", "test", "t"])
        assert refused.exit_code == 1 and refused.output.startswith("error: ")
        assert token not in checked.output + refused.output
    if tool_name == "glpi":
        assert len(tool.calls("GET", "/apirest.php/killSession")) == 1
