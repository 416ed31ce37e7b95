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


def test_one_gateway_template_serves_compose_kubernetes_and_the_local_stack():
    """compose and Kubernetes run the gateway image (deploy/gateway/Dockerfile), which bakes in the same
    template the local stack renders, with every ${OTOP_GATEWAY_...} placeholder given."""
    from deploy.local.gateway import TEMPLATE, render

    placeholders = set(re.findall(r"\$\{(OTOP_GATEWAY_[A-Z_]+)\}", TEMPLATE.read_text()))
    dockerfile = (REPO / "deploy/gateway/Dockerfile").read_text()
    assert "COPY deploy/gateway/otop.conf.template /etc/nginx/templates/" in dockerfile
    assert "npm ci" in dockerfile and "NGINX_ENVSUBST_FILTER=^OTOP_GATEWAY_" in dockerfile
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["gateway"]
    assert compose["build"]["dockerfile"] == "deploy/gateway/Dockerfile" and compose["ports"] == ["8000:8080"]
    baked = {"OTOP_GATEWAY_ROOT"}  # set in the image
    assert placeholders - baked <= set(compose["environment"])
    for name in SERVICES:
        assert compose["environment"][f"OTOP_GATEWAY_{name.upper()}"] == f"http://{name}:8000"
    documents = k8s_documents()
    [deployment] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert placeholders - baked <= {e["name"] for e in container["env"]}
    [ingress] = [d for d in documents if d["kind"] == "Ingress"]
    assert [p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]] == ["gateway"]
    rendered = render({name: "x" for name in placeholders})
    assert "${" not in rendered
    for internal in ("metrics", "docs", "openapi"):  # the services' business routes only
        assert not re.search(rf"location[^{{]*{internal}", rendered)


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
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and resources["limits"]["memory"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert by_kind["PodDisruptionBudget"][name]["spec"]["selector"] == deployment["spec"]["selector"]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/path"] == "/metrics" and annotations["prometheus.io/scrape"] == "true"
    config = by_kind["ConfigMap"]["otop-config"]["data"]
    assert all(key.startswith("OTOP_") for key in config)  # configuration only from the environment
