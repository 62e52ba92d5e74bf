"""The alert rules and Prometheus configurations, checked by promtool (Debian's `prometheus`
package; scripts/test installs it), and every alert's runbook entry."""

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.queries import DEPLOY, RULES, alert_names, dashboard_exprs

RUNBOOKS = DEPLOY.parent / "docs" / "runbooks.md"


def _promtool(*args: str, cwd: Path) -> str:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool is missing: scripts/test installs it (apt prometheus)"
    done = subprocess.run(
        [promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class TestRules:
    def test_rules_are_valid(self) -> None:
        out = _promtool("check", "rules", RULES.name, cwd=RULES.parent)

        assert f"SUCCESS: {len(alert_names())} rules found" in out

    def test_every_alert_passes_its_unit_tests(self) -> None:
        out = _promtool("test", "rules", "rules_test.yml", cwd=RULES.parent)

        assert "SUCCESS" in out

    def test_every_alert_has_a_unit_test_that_fires_it(self) -> None:
        tests = yaml.safe_load((RULES.parent / "rules_test.yml").read_text())["tests"]
        fired = {
            case["alertname"]
            for test in tests
            for case in test["alert_rule_test"]
            if case["exp_alerts"]
        }

        assert fired == set(alert_names())

    def test_every_alert_has_a_runbook_entry(self) -> None:
        headings = set(re.findall(r"^## (\w+)$", RUNBOOKS.read_text(), flags=re.M))

        assert set(alert_names()) <= headings
        for rule in yaml.safe_load(RULES.read_text())["groups"]:
            for alert in rule["rules"]:
                assert alert["annotations"]["runbook"] == (
                    f"docs/runbooks.md#{alert['alert'].lower()}"
                )

    def test_every_runbook_entry_says_what_it_means_what_to_check_and_what_to_do(self) -> None:
        text = RUNBOOKS.read_text()
        for name in alert_names():
            entry = text.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
            for part in ("**What it means**", "**What to check**", "**What to do**"):
                assert part in entry, f"{name}: no {part}"

    def test_the_dashboards_queries_are_valid_promql(self, tmp_path: Path) -> None:
        """promtool parses each of the dashboard's queries as a recording rule's."""
        rules = [
            {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(dashboard_exprs())
        ]
        (tmp_path / "dashboard.yml").write_text(
            yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
        )

        out = _promtool("check", "rules", "dashboard.yml", cwd=tmp_path)

        assert f"SUCCESS: {len(rules)} rules found" in out


class TestConfigurations:
    def test_the_compose_configuration_scrapes_the_api_and_the_worker(self) -> None:
        config = DEPLOY / "prometheus" / "prometheus.yml"

        _promtool("check", "config", config.name, cwd=config.parent)
        jobs = {job["job_name"] for job in yaml.safe_load(config.read_text())["scrape_configs"]}
        assert jobs == {"nextcall-api", "nextcall-worker"}

    def test_the_kubernetes_configuration_scrapes_the_same_jobs(self, tmp_path: Path) -> None:
        documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "nextcall.yaml").read_text()))
        config_map = next(d for d in documents if d["kind"] == "ConfigMap")
        (tmp_path / "prometheus.yml").write_text(config_map["data"]["prometheus.yml"])
        shutil.copy(RULES, tmp_path / "rules.yml")

        _promtool("check", "config", "prometheus.yml", cwd=tmp_path)
        config = yaml.safe_load(config_map["data"]["prometheus.yml"])
        assert {job["job_name"] for job in config["scrape_configs"]} == {
            "nextcall-api",
            "nextcall-worker",
        }
        worker = next(d for d in documents if d["metadata"]["name"] == "nextcall-worker")
        command = worker["spec"]["template"]["spec"]["containers"][0]["command"]
        assert command[-2:] == ["--metrics-port", "9100"]

    def test_compose_runs_the_worker_with_metrics_and_provisions_grafana(self) -> None:
        compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]

        assert compose["worker"]["command"][-2:] == ["--metrics-port", "9100"]
        mounts = compose["grafana"]["volumes"]
        assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
        provider = yaml.safe_load(
            (DEPLOY / "grafana" / "provisioning" / "dashboards" / "nextcall.yml").read_text()
        )
        assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
