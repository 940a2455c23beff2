"""A partner tests the RMM plugin they ship with the `plugins` fixture: pip-installed (its
`psa.event_types` metadata needs that), the test's object stands in for the installed one, and one
registered in the test's body, after `tenant`, is served as one registered before."""

import sys
import textwrap

import flask
import pytest

from psa_shared.plugins import hookimpl

MODULE = "psa_test_qa_rmm"


@pytest.fixture
def installed_qa_rmm(tmp_path, monkeypatch):
    """The plugin installed as a distribution is: its module and dist-info (entry point `qa_rmm`)."""
    site = tmp_path / "site"
    (site / f"{MODULE}-1.0.dist-info").mkdir(parents=True)
    (site / f"{MODULE}-1.0.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 1.0\n")
    (site / f"{MODULE}-1.0.dist-info" / "entry_points.txt").write_text(f"[psa]\nqa_rmm = {MODULE}\n")
    (site / f"{MODULE}.py").write_text(
        textwrap.dedent(
            """
            import flask
            from psa_shared.plugins import hookimpl

            @hookimpl
            def psa_register_blueprints():
                blueprint = flask.Blueprint("qa_rmm", __name__)
                blueprint.get("/which")(lambda: {"plugin": "installed"})
                return [("qa_rmm", blueprint)]
            """
        )
    )
    monkeypatch.syspath_prepend(str(site))
    yield
    sys.modules.pop(MODULE, None)


class QaRmmUnderTest:
    @hookimpl
    def psa_register_blueprints(self):
        blueprint = flask.Blueprint("qa_rmm", __name__)
        blueprint.get("/which")(lambda: {"plugin": "under test"})
        return [("qa_rmm", blueprint)]


@pytest.fixture
def qa_rmm(installed_qa_rmm, plugins):
    return plugins(QaRmmUnderTest(), "qa_rmm")


def test_the_tests_object_stands_in_for_the_installed_plugin_of_its_name(qa_rmm, psa, tenant):
    """Until 2026-11-28 this failed on pluggy's "Plugin name already registered"."""
    assert tenant.api.get("/api/v1/plugins/qa_rmm/which").json == {"plugin": "under test"}
    names = [item["name"] for item in tenant.api.get("/api/v1/settings/plugins").json["items"]]
    assert names.count("qa_rmm") == 1


def test_a_plugin_registered_once_the_app_is_built_is_served_too(plugins, psa, tenant):
    """Until 2026-11-28 the web side went on without it (its pages 404, its settings missing)
    while workers built later had it: `tenant` has made a request by now."""
    plugins(QaRmmUnderTest(), "qa_rmm")
    assert tenant.api.get("/api/v1/plugins/qa_rmm/which").json == {"plugin": "under test"}
    assert tenant.api.get("/api/v1/settings/plugins/qa_rmm").json["enabled"] is True
