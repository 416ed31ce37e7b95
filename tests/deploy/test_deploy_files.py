"""docker-compose.yml and the Kubernetes manifests parse and name every service correctly; every
service scales on its own (compose replicas, Kubernetes autoscaler) with probes and resources."""

import re
from pathlib import Path

import yaml

from deploy.local.processes import SERVICES

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
        # Replicas settable per service; a scaled service publishes no fixed host port (replicas would clash).
        assert service["deploy"]["replicas"] == f"${{{name.upper()}_REPLICAS:-1}}"
        assert "ports" not in service
    assert "KAFKA_PROCESS_ROLES" in compose["services"]["kafka"]["environment"]  # KRaft, no ZooKeeper
    assert compose["services"]["sales"]["environment"]["OTOP_SALES_SIGNING_MASTER_KEY"]
    assert (REPO / compose["services"]["registry"]["build"]["dockerfile"]).exists()


def test_compose_gateway_gives_each_service_a_fixed_port_over_its_replicas():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    gateway = compose["services"]["gateway"]
    [mount] = [v for v in gateway["volumes"] if v.endswith("/etc/nginx/conf.d/default.conf:ro")]
    config = (REPO / mount.split(":")[0]).read_text()
    routes = dict(re.findall(r"listen (\d+); location / \{ set \$service http://(\w+):8000; +proxy_pass \$service;",
                             config))
    assert routes == {str(8001 + i): name for i, name in enumerate(SERVICES)}  # the local stack's ports
    assert sorted(gateway["ports"]) == [f"{port}:{port}" for port in routes]
    assert "resolver 127.0.0.11" in config  # Docker's DNS, asked per request: replicas come and go


def test_compose_demo_loads_through_every_service_api():
    demo = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["demo"]
    assert demo["profiles"] == ["demo"] and demo["command"][-1] == "demo"
    for name in SERVICES:
        assert f"http://{name}:8000" in demo["command"] and name in demo["depends_on"]


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
        assert hpa["spec"]["scaleTargetRef"]["name"] == name and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        assert "replicas" not in deployment["spec"]  # the autoscaler's to set; an apply would reset it
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and resources["limits"]["memory"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert by_kind["PodDisruptionBudget"][name]["spec"]["selector"] == deployment["spec"]["selector"]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == "/metrics" and annotations["prometheus.io/scrape"] == "true"
    config = by_kind["ConfigMap"]["otop-config"]["data"]
    assert all(key.startswith("OTOP_") for key in config)  # configuration only from the environment
