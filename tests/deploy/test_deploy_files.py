"""docker-compose.yml and the Kubernetes manifests parse and name every service correctly."""

from pathlib import Path

import yaml

from deploy.local.stack import SERVICES

REPO = Path(__file__).resolve().parents[2]


def k8s_documents() -> list[dict]:
    kustomization = yaml.safe_load((REPO / "deploy/k8s/kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((REPO / "deploy/k8s" / resource).read_text()) if d]
    return documents


def test_compose_runs_every_service_against_its_own_database():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert {"kafka", "postgres", *SERVICES} <= set(compose["services"])
    init_sql = (REPO / "deploy/postgres/init-databases.sql").read_text()
    for name in SERVICES:
        service = compose["services"][name]
        assert f"services.{name}.main:app" in service["command"]
        assert service["environment"]["OTOP_DATABASE_URL"].endswith(f"/otop_{name}")
        assert f"CREATE DATABASE otop_{name};" in init_sql
        assert {"kafka", "postgres"} <= set(service["depends_on"])


def test_kubernetes_manifests_deploy_every_service_with_probes_and_scaling():
    documents = k8s_documents()
    by_kind: dict[str, dict[str, dict]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    for name in SERVICES:
        deployment = by_kind["Deployment"][name]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert f"services.{name}.main:app" in container["command"]
        assert (REPO / "services" / name / "main.py").exists()
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        env = {e["name"] for e in container["env"]}
        assert {"OTOP_JWT_SECRET", "OTOP_DATABASE_URL"} <= env
        assert by_kind["Service"][name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        hpa = by_kind["HorizontalPodAutoscaler"][name]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name and hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
