"""The Prometheus alert rules (deploy/prometheus/alerts.yml): valid (`promtool check rules`), firing when
and only when their unit tests say (`promtool test rules`), and naming only metrics the services export."""

import re
import shutil
import subprocess

import yaml

from shared import observability
from tests.harness import REPO

RULES = REPO / "deploy" / "prometheus" / "alerts.yml"


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: bash scripts/setup.sh installs it (Debian package prometheus)"
    return subprocess.run([tool, *args], cwd=RULES.parent, capture_output=True, text=True, timeout=60)


def test_the_rules_are_valid():
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_the_rules_fire_as_their_unit_tests_expect():
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_rules_name_only_metrics_the_services_export():
    exported = {metric._name for metric in vars(observability).values() if hasattr(metric, "_name")}
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    used = {name.removesuffix("_total") for rule in rules for name in re.findall(r"\botop_\w+", rule["expr"])}
    assert {rule["alert"] for rule in rules} == {
        "OtopDeadLettersGrowing",
        "OtopConsumerNotReady",
        "OtopWorkerNotReady",
        "OtopConsumerLagging",
        "OtopOutboxBacklog",
    }
    assert used and used <= exported, used - exported
