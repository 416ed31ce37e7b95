"""docker-compose.yml and the Kubernetes manifests parse and name every service correctly; every
service scales on its own (compose replicas, Kubernetes autoscaler) with probes and resources; Keycloak
runs in production mode with its own database and the realm import; no secret has a default."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.service_names import SERVICES

REPO = Path(__file__).resolve().parents[2]


def k8s_documents() -> list[dict]:
    kustomization = yaml.safe_load((REPO / "deploy/k8s/kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        documents += [d for d in yaml.safe_load_all((REPO / "deploy/k8s" / resource).read_text()) if d]
    return documents


def test_compose_runs_every_service_against_its_own_database():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert {"kafka-1", "kafka-2", "kafka-3", "postgres", "keycloak", "keycloak-db", *SERVICES} <= set(
        compose["services"]
    )
    for name in SERVICES:
        service = compose["services"][name]
        assert f"services.{name}.main:app" in service["command"]
        assert service["environment"]["OTOP_DATABASE_URL"].endswith(f"/otop_{name}")
        # After Kafka's users and ACLs, and its own database role (deploy/postgres/provision.py)
        assert {"kafka-setup", "postgres-setup"} <= set(service["depends_on"])
        # Replicas settable per service; a scaled service publishes no fixed host port (replicas would clash).
        assert service["deploy"]["replicas"] == f"${{{name.upper()}_REPLICAS:-1}}"
        assert "ports" not in service
    for node in ("kafka-1", "kafka-2", "kafka-3"):  # KRaft, secured as everywhere
        assert "deploy/kafka/kafka.sh" in compose["services"][node]["command"]
    assert compose["services"]["kafka-setup"]["command"] == ["python", "-m", "deploy.kafka.provision"]
    assert compose["services"]["sales"]["environment"]["OTOP_SALES_SIGNING_MASTER_KEY"]
    assert (REPO / compose["services"]["registry"]["build"]["dockerfile"]).exists()


def test_one_gateway_template_serves_compose_kubernetes_and_the_local_stack():
    """compose and Kubernetes run the gateway image (deploy/gateway/Dockerfile), which bakes in the same
    template the local stack renders, with every ${OTOP_GATEWAY_...} placeholder given."""
    from deploy.local.gateway import TEMPLATE, render

    placeholders = set(re.findall(r"\$\{(OTOP_GATEWAY_[A-Z_]+)\}", TEMPLATE.read_text()))
    dockerfile = (REPO / "deploy/gateway/Dockerfile").read_text()
    lines = dockerfile.replace("\\\n", " ").splitlines()  # continued instructions as one line
    copies = [line.split() for line in lines if line.startswith("COPY ")]
    [baked_in] = [copy for copy in copies if copy[-1] == "/etc/otop-gateway/"]
    assert "deploy/gateway/otop.conf.template" in baked_in and "npm ci" in dockerfile
    entrypoint = (REPO / "deploy/gateway/entrypoint.sh").read_text()
    assert "envsubst" in entrypoint and "OTOP_GATEWAY_" in entrypoint  # only its own placeholders
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["gateway"]
    assert compose["build"]["dockerfile"] == "deploy/gateway/Dockerfile" and compose["ports"] == [
        "${OTOP_GATEWAY_BIND:-127.0.0.1}:${OTOP_GATEWAY_PORT:-8443}:8443"
    ]  # localhost unless the operator opens it
    # TLS at the gateway with the operator's certificate (compose); behind the TLS Ingress (Kubernetes)
    assert compose["environment"]["OTOP_GATEWAY_LISTEN"] == "8443 ssl"
    assert compose["environment"]["OTOP_GATEWAY_EDGE"] == "/etc/otop-gateway/edge-tls.conf"
    assert compose["volumes"][0].endswith(":/etc/otop-gateway/tls:ro") and ":?" in compose["volumes"][0]
    for edge in ("edge-plain.conf", "edge-tls.conf", "edge-ingress.conf"):
        assert f"deploy/gateway/{edge}" in baked_in
    baked = {"OTOP_GATEWAY_ROOT", "OTOP_GATEWAY_CACHE_DIR", "OTOP_GATEWAY_PUBLIC_CACHE"}  # set in the image
    assert placeholders - baked <= set(compose["environment"])
    for name in SERVICES:
        assert compose["environment"][f"OTOP_GATEWAY_{name.upper()}"] == f"http://{name}:8000"
    documents = k8s_documents()
    [deployment] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "gateway"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert placeholders - baked <= {e["name"] for e in container["env"]}
    assert {"name": "OTOP_GATEWAY_EDGE", "value": "/etc/otop-gateway/edge-ingress.conf"} in container["env"]
    [ingress] = [d for d in documents if d["kind"] == "Ingress"]
    assert ingress["spec"]["tls"] == [{"secretName": "otop-tls"}]
    assert [
        p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]
    ] == ["gateway"]
    rendered = render({name: "x" for name in placeholders})
    assert "${OTOP_GATEWAY_" not in rendered  # nginx's own ${captures} (the log redaction's) stay
    for internal in ("metrics", "docs", "openapi"):  # the services' business routes only
        assert not re.search(rf"^\s*location[^{{\n]*{internal}", rendered, re.M)


SECRET_REFERENCE = re.compile(r"\$\{(\w*(?:PASSWORD|SECRET|MASTER_KEY)\w*)(:?[-?][^}]*)?\}")


def test_compose_has_no_default_secret():
    text = (REPO / "docker-compose.yml").read_text()
    references = SECRET_REFERENCE.findall(text)
    assert {name for name, _ in references} >= {
        "OTOP_POSTGRES_PASSWORD",
        "OTOP_SALES_SIGNING_MASTER_KEY",
        "KEYCLOAK_DB_PASSWORD",
        "KEYCLOAK_ADMIN_PASSWORD",
        "OTOP_SALES_KEYCLOAK_SECRET",
    }
    # Each secret is required (${NAME:?message}: compose stops and says which) or refers to one required
    # elsewhere in the file (${NAME}); never ${NAME:-default}.
    assert not [name for name, default in references if default.startswith((":-", "-"))]
    required = {name for name, default in references if default.startswith(":?")}
    assert {name for name, _ in references} == required
    compose = yaml.safe_load(text)
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if any(word in name for word in ("PASSWORD", "SECRET", "MASTER_KEY")):
                assert str(value).startswith("${") and ":?" in str(value), (name, value)
    assert "JWT" not in text


def test_compose_runs_keycloak_in_production_mode_with_its_database_and_realms():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    keycloak = compose["services"]["keycloak"]
    dockerfile = (REPO / keycloak["build"]["dockerfile"]).read_text()
    assert "kc.sh build" in dockerfile and 'CMD ["start", "--optimized", "--import-realm"]' in dockerfile
    for realm in ("otop-realm.json", "otop-integrations-realm.json"):
        assert f"deploy/keycloak/{realm}" in dockerfile and (REPO / "deploy/keycloak" / realm).exists()
    assert "KC_DB=postgres" in dockerfile and "KC_HTTP_RELATIVE_PATH=/auth" in dockerfile
    env = keycloak["environment"]
    assert env["KC_DB_URL"] == "jdbc:postgresql://keycloak-db:5432/keycloak"
    keycloak_db = compose["services"]["keycloak-db"]["environment"]
    assert keycloak_db["POSTGRES_USER"] == keycloak_db["POSTGRES_DB"] == env["KC_DB_USERNAME"] == "keycloak"
    assert keycloak_db["POSTGRES_PASSWORD"].split(":?")[0] == env["KC_DB_PASSWORD"].split(":?")[0]
    assert keycloak["depends_on"] == {"keycloak-db": {"condition": "service_healthy"}}
    public = env["KC_HOSTNAME"]
    for name in SERVICES:
        service_env = compose["services"][name]["environment"]
        # The issuer is Keycloak's public address; the keys are fetched inside the network.
        assert service_env["OTOP_OIDC_ISSUER"] == f"{public}/realms/otop"
        assert service_env["OTOP_OIDC_INTEGRATION_ISSUER"] == f"{public}/realms/otop-integrations"
        assert service_env["OTOP_OIDC_JWKS_URL"].startswith("http://keycloak:8080/auth/realms/otop/")
    sales = compose["services"]["sales"]["environment"]
    assert sales["OTOP_SALES_KEYCLOAK_REALM_URL"] == "http://keycloak:8080/auth/realms/otop-integrations"
    assert (
        sales["OTOP_SALES_KEYCLOAK_CLIENT_SECRET"].split(":?")[0]
        == env["OTOP_SALES_KEYCLOAK_SECRET"].split(":?")[0]
    )


def test_compose_demo_makes_the_accounts_then_loads_through_every_service_api():
    demo = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["demo"]
    script = demo["entrypoint"][-1]
    assert demo["profiles"] == ["demo"] and script.endswith(
        "$$cli accounts --keycloak-url http://keycloak:8080/auth; $$cli demo >/tmp/otop/demo.json; "
        "cat /tmp/otop/demo.json"
    )
    for name in SERVICES:
        assert f"--url-{name} http://{name}:8000" in script and name in demo["depends_on"]
    assert demo["depends_on"]["keycloak-setup"] == {"condition": "service_completed_successfully"}
    setup = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["keycloak-setup"]
    assert setup["command"][:3] == ["python", "-m", "deploy.keycloak.admin"]
    assert {"KEYCLOAK_ADMIN", "KEYCLOAK_ADMIN_PASSWORD"} <= set(setup["environment"])


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
        assert "OTOP_DATABASE_URL" in env and not any("JWT" in name for name in env)
        assert by_kind["Service"][name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        hpa = by_kind["HorizontalPodAutoscaler"][name]
        assert (
            hpa["spec"]["scaleTargetRef"]["name"] == name
            and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        )
        assert "replicas" not in deployment["spec"]  # the autoscaler's to set; an apply would reset it
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
        resources = container["resources"]
        assert {"cpu", "memory"} <= set(resources["requests"]) and resources["limits"]["memory"]
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert by_kind["PodDisruptionBudget"][name]["spec"]["selector"] == deployment["spec"]["selector"]
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert (
            annotations["prometheus.io/path"] == "/internal/metrics"
            and annotations["prometheus.io/scrape"] == "true"
        )
    config = by_kind["ConfigMap"]["otop-config"]["data"]
    assert all(key.startswith("OTOP_") for key in config)  # configuration only from the environment
    assert config["OTOP_OIDC_ISSUER"] == config["OTOP_AUTH_PUBLIC_URL"] + "/realms/otop"
    assert config["OTOP_OIDC_JWKS_URL"].startswith("http://keycloak.otop-mobile.svc/auth/realms/otop/")


def test_kubernetes_runs_keycloak_in_production_mode_from_secrets_without_defaults():
    documents = k8s_documents()
    [deployment] = [d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "keycloak"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["start", "--optimized", "--import-realm"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("KC_DB_URL", "KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD", "OTOP_SALES_KEYCLOAK_SECRET"):
        reference = env[name]["valueFrom"]["secretKeyRef"]
        assert reference["name"] == "otop-secrets" and not reference.get("optional")  # missing: no start
    assert container["readinessProbe"]["httpGet"] == {"path": "/auth/health/ready", "port": "management"}
    sales = next(d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"] == "sales")
    sales_env = {e["name"]: e for e in sales["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (
        sales_env["OTOP_SALES_KEYCLOAK_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"]["key"]
        == env["OTOP_SALES_KEYCLOAK_SECRET"]["valueFrom"]["secretKeyRef"]["key"]
    )
    assert any(d["kind"] == "Service" and d["metadata"]["name"] == "keycloak" for d in documents)


def test_no_shared_signing_secret_is_left():
    sources = [
        p
        for p in REPO.rglob("*")
        if p.suffix in {".py", ".yml", ".yaml", ".sh", ".md", ".conf"}
        and ".venv" not in p.parts
        and ".local" not in p.parts
        and p.is_file()
    ]
    assert len(sources) > 100
    found = [
        str(p.relative_to(REPO))
        for p in sources
        if p.name != "test_deploy_files.py"
        and any(w in p.read_text(errors="replace") for w in ("OTOP_JWT_SECRET", "issue_token", "jwt_secret"))
    ]
    assert found == []


def test_kubernetes_services_reach_kafka_as_their_own_principals_over_tls():
    by_kind: dict[str, dict[str, dict]] = {}
    for document in k8s_documents():
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    config = by_kind["ConfigMap"]["otop-config"]["data"]
    assert config["OTOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and config["OTOP_KAFKA_CA_FILE"]
    for name in SERVICES:
        pod = by_kind["Deployment"][name]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["OTOP_KAFKA_USERNAME"]["value"] == f"svc-{name}"
        assert env["OTOP_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "otop-kafka",
            "key": f"{name.upper()}_PASSWORD",
        }
        assert "ADMIN_PASSWORD" not in str(pod)  # the super user's password is the provisioning Job's alone
        assert container["volumeMounts"][0]["mountPath"] == config["OTOP_KAFKA_CA_FILE"].rsplit("/", 1)[0]
    job = by_kind["Job"]["kafka-provision"]["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["python", "-m", "deploy.kafka.provision"]
    assert {f"OTOP_KAFKA_PASSWORD_{name.upper()}" for name in SERVICES} <= {e["name"] for e in job["env"]}


SECRETS = (
    "OTOP_SALES_SIGNING_MASTER_KEY",
    "OTOP_POSTGRES_PASSWORD",
    "OTOP_KAFKA_ADMIN_PASSWORD",
    "KEYCLOAK_DB_PASSWORD",
    "KEYCLOAK_ADMIN_PASSWORD",
    "OTOP_SALES_KEYCLOAK_SECRET",
    "OTOP_INVITATION_LINK_KEY",
    *(f"OTOP_KAFKA_PASSWORD_{name.upper()}" for name in (*SERVICES, "provisioner")),
    "OTOP_KAFKA_PROVISIONER_TOKEN",
    *(f"OTOP_DATABASE_PASSWORD_{name.upper()}" for name in SERVICES),
)


def test_compose_refuses_to_start_without_real_secrets_and_binds_host_ports_to_localhost():
    """Issue 14, finding 1: no public default secret; `${VAR:?message}` makes `docker compose` stop with the
    message when VAR is unset or empty. Host ports (gateway, Kafka's TLS listener) bind to 127.0.0.1 unless
    configured."""
    text = (REPO / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    defaults = re.findall(r"\$\{(\w+):?-([^}]*)\}", text)
    assert not [(name, value) for name, value in defaults if re.search("SECRET|KEY|PASSWORD", name)], defaults
    for name in SECRETS:
        assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", text), f"{name} is not required with a message"
    assert "change-me" not in text and "POSTGRES_PASSWORD: otop" not in text
    environments = [service.get("environment", {}) for service in compose["services"].values()]
    for environment in environments:
        for name, value in environment.items():
            if re.search("SECRET|MASTER_KEY|PASSWORD", name):
                assert str(value).startswith("${") and ":?" in str(value), (name, value)
    published = [port for service in compose["services"].values() for port in service.get("ports", [])]
    assert published and all(
        port.startswith("${OTOP_") and ":-127.0.0.1}:" in port or port.startswith("127.0.0.1:")
        for port in published
    ), published
    # Keycloak's own port (its admin console and the master realm) is for operators on this host only.
    assert compose["services"]["keycloak"]["ports"] == ["127.0.0.1:${OTOP_IDENTITY_PORT:-8180}:8080"]


KAFKA_SH = REPO / "deploy/kafka/kafka.sh"


def broker_properties(command: list[str], tmp_path: Path, node: str, **values: str) -> dict[str, str]:
    """The server.properties that kafka.sh writes for a node started with `command` (compose's or the
    StatefulSet's, its variables replaced by `values`), in scratch directories: `kafka.sh config` writes the
    configuration as `run` would, and starts nothing."""
    args = [re.sub(r"\$\{?(\w+)[^}]*\}?|\$\((\w+)\)", lambda m: values[m[1] or m[2]], a) for a in command]
    assert args[:3] == ["bash", "deploy/kafka/kafka.sh", "run"], args
    for option in ("--data-dir", "--shared-dir"):
        args[args.index(option) + 1] = str(tmp_path / (node if option == "--data-dir" else "shared"))
    subprocess.run(["bash", str(KAFKA_SH), "config", *args[3:]], check=True, capture_output=True, text=True)
    lines = (tmp_path / node / "server.properties").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


CLUSTER_SETTINGS = {  # what a three-node cluster must run with: acks=all writes on 2 of 3 replicas
    "process.roles": "broker,controller",
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "unclean.leader.election.enable": "false",
    "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "allow.everyone.if.no.acl.found": "false",
    # The services and the super user log in on CLIENT with SCRAM-SHA-256 credentials, integrations on
    # EXTERNAL with SCRAM-SHA-512 ones: no service's or super user's password opens the integrations' one.
    "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-256",
    "listener.name.external.sasl.enabled.mechanisms": "SCRAM-SHA-512",
    "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-256",
}


def test_compose_runs_one_kafka_cluster_of_three_with_replication_3_and_min_isr_2(tmp_path):
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    nodes = {n: compose[f"kafka-{n}"] for n in (1, 2, 3)}
    ports = {f"OTOP_KAFKA_TLS_PORT_{n}": str(9093 + n) for n in nodes}
    properties = {
        n: broker_properties(
            node["command"], tmp_path, f"kafka-{n}", OTOP_KAFKA_PUBLIC_HOST="localhost", **ports
        )
        for n, node in nodes.items()
    }
    voters = "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    for n, found in properties.items():
        assert found | CLUSTER_SETTINGS == found, {k: found.get(k) for k in CLUSTER_SETTINGS}
        protocols = (
            "CLIENT:SASL_PLAINTEXT,EXTERNAL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"  # inside compose's network
        )
        assert found["listener.security.protocol.map"] == protocols
        assert (found["node.id"], found["controller.quorum.voters"]) == (str(n), voters)
        assert f"CONTROLLER://kafka-{n}:9093" in found["advertised.listeners"]
        # One volume shared by the three (the cluster id, the TLS material), one of its own each for the data.
        assert set(nodes[n]["volumes"]) == {
            f"kafka-{n}-data:/var/lib/otop-kafka",
            "kafka-shared:/var/lib/otop-kafka-shared",
        }
    assert len({found["listener.name.external.ssl.keystore.location"] for found in properties.values()}) == 1
    setup = compose["kafka-setup"]
    assert setup["environment"]["OTOP_TOPIC_REPLICATION_FACTOR"] == "3"
    assert set(setup["depends_on"]) >= {"kafka-1", "kafka-2", "kafka-3"}
    for name in ("kafka-setup", *SERVICES):
        bootstrap = compose[name]["environment"]["OTOP_KAFKA_BOOTSTRAP"]
        assert bootstrap == "kafka-1:9092,kafka-2:9092,kafka-3:9092", (name, bootstrap)


def test_kubernetes_runs_one_kafka_cluster_of_three_with_replication_3_and_min_isr_2(tmp_path):
    by_kind: dict[str, dict[str, dict]] = {}
    for document in k8s_documents():
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
    kafka = by_kind["StatefulSet"]["kafka"]["spec"]
    assert kafka["replicas"] == 3 and kafka["podManagementPolicy"] == "Parallel"
    assert kafka["serviceName"] == "kafka" and by_kind["Service"]["kafka"]["spec"]["clusterIP"] == "None"
    assert by_kind["Service"]["kafka"]["spec"]["publishNotReadyAddresses"] is True
    assert by_kind["PodDisruptionBudget"]["kafka"]["spec"]["maxUnavailable"] == 1
    [container] = kafka["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert "apps.kubernetes.io/pod-index" in env["NODE_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    voters = "0@kafka-0.kafka:9093,1@kafka-1.kafka:9093,2@kafka-2.kafka:9093"
    for i in range(3):
        found = broker_properties(
            container["command"], tmp_path, f"kafka-{i}", POD_NAME=f"kafka-{i}", NODE_ID=str(i)
        )
        assert found | CLUSTER_SETTINGS == found, {k: found.get(k) for k in CLUSTER_SETTINGS}
        protocols = "CLIENT:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT"  # services over TLS too
        assert found["listener.security.protocol.map"] == protocols
        assert found["listener.name.client.ssl.truststore.type"] == "PEM"  # replication checks the brokers
        assert (found["node.id"], found["controller.quorum.voters"]) == (str(i), voters)
        assert f"EXTERNAL://kafka-{i}.kafka:9094" in found["advertised.listeners"]
    config = by_kind["ConfigMap"]["otop-config"]["data"]
    assert config["OTOP_KAFKA_BOOTSTRAP"] == "kafka-0.kafka:9092,kafka-1.kafka:9092,kafka-2.kafka:9092"
    assert config["OTOP_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    job = by_kind["Job"]["kafka-provision"]["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e.get("value") for e in job["env"]}["OTOP_TOPIC_REPLICATION_FACTOR"] == "3"


def test_the_local_stack_runs_one_broker_or_a_cluster_of_three_and_its_state_keeps_the_count(tmp_path):
    from deploy.local.stack import local_kafka

    single = local_kafka(tmp_path, 1, 19092)
    assert (single.bootstrap, single.controller_port, single.ssl_port) == ("127.0.0.1:19092", 19093, 19094)
    cluster = local_kafka(tmp_path, 3, 19092)
    assert cluster.bootstrap == "127.0.0.1:19092,127.0.0.1:19095,127.0.0.1:19098"
    assert [(n.controller_port, n.ssl_port) for n in cluster.nodes] == [
        (19093, 19094),
        (19096, 19097),
        (19099, 19100),
    ]
    assert (single.replication_factor, cluster.replication_factor) == (1, 3)
    assert cluster.nodes[1].cluster == (
        2,
        "1@127.0.0.1:19093,2@127.0.0.1:19096,3@127.0.0.1:19099",
        tmp_path / "kafka",
    )
    (tmp_path / "kafka" / "node-1").mkdir(parents=True)  # a state directory that ran a cluster
    with pytest.raises(SystemExit, match="start with that --brokers"):
        local_kafka(tmp_path, 1, 19092)


def test_only_the_kafka_provisioner_holds_the_provisioners_credentials_and_sales_reaches_it():
    """Compose and Kubernetes run the Kafka provisioner (the one principal with ALTER on the cluster) as its
    own process; the sales service calls it with the token, never holding the provisioner's Kafka password."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    provisioner = compose["kafka-provisioner"]
    assert "deploy.kafka.provisioner:app" in provisioner["command"] and "ports" not in provisioner
    assert provisioner["environment"]["OTOP_KAFKA_USERNAME"] == "kafka-provisioner"
    sales = compose["sales"]["environment"]
    assert sales["OTOP_SALES_KAFKA_PROVISIONER_URL"] == "http://kafka-provisioner:8000"  # the image's port
    assert "PROVISIONER_TOKEN" in sales["OTOP_SALES_KAFKA_PROVISIONER_TOKEN"]
    assert "PROVISIONER" not in sales["OTOP_KAFKA_PASSWORD"]
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in k8s_documents()}
    [container] = by_name[("Deployment", "kafka-provisioner")]["spec"]["template"]["spec"]["containers"]
    assert "deploy.kafka.provisioner:app" in container["command"]
    [sales_pod] = by_name[("Deployment", "sales")]["spec"]["template"]["spec"]["containers"]
    keys = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") for e in sales_pod["env"]}
    assert keys["OTOP_SALES_KAFKA_PROVISIONER_TOKEN"] == "PROVISIONER_TOKEN"
    assert "PROVISIONER_PASSWORD" not in keys.values()
    # One port everywhere: the image's (its health check asks 8000), in compose and Kubernetes alike
    assert provisioner["command"][-2:] == container["command"][-2:] == ["--port", "8000"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    [port] = by_name[("Service", "kafka-provisioner")]["spec"]["ports"]
    assert port["port"] == 8000
    url = {e["name"]: e.get("value") for e in sales_pod["env"]}["OTOP_SALES_KAFKA_PROVISIONER_URL"]
    assert url == "http://kafka-provisioner.otop-mobile.svc:8000"


def test_each_service_connects_to_its_database_as_its_own_role_never_the_superuser():
    """Issue 21: compose's services and the Kubernetes provisioning Job give each service its own role
    (otop_<service>), made by deploy/postgres/provision.py, which only the provisioning step runs as the
    superuser; the local stack does the same (tests/security/test_database_roles.py)."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    for name in SERVICES:
        url = compose[name]["environment"]["OTOP_DATABASE_URL"]
        assert url.startswith(f"postgresql://otop_{name}:${{OTOP_DATABASE_PASSWORD_{name.upper()}:?"), url
        assert "OTOP_POSTGRES_PASSWORD" not in url
    setup = compose["postgres-setup"]
    assert setup["command"] == ["python", "-m", "deploy.postgres.provision"]
    assert "OTOP_POSTGRES_PASSWORD" in setup["environment"]["OTOP_POSTGRES_ADMIN_URL"]
    superuser_holders = [n for n, service in compose.items() if "{OTOP_POSTGRES_PASSWORD" in str(service)]
    assert sorted(superuser_holders) == ["postgres", "postgres-setup"], superuser_holders
    jobs = {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == "Job"}
    [job] = jobs["postgres-provision"]["spec"]["template"]["spec"]["containers"]
    assert job["command"] == ["python", "-m", "deploy.postgres.provision"]


def _selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions In) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _admitted(policies: list[dict], source: str, namespace: str, target: str, port: int) -> bool:
    """Whether the namespace's NetworkPolicies let a pod named `source` (label app.kubernetes.io/name) of
    `namespace` (or from outside the cluster: namespace None) open a connection to pod `target` on `port`."""
    target_labels, source_labels = {"app.kubernetes.io/name": target}, {"app.kubernetes.io/name": source}
    chosen = [p["spec"] for p in policies if _selects(p["spec"]["podSelector"], target_labels)]
    assert chosen, f"no policy selects {target}"  # the default deny at least
    for spec in chosen:
        for rule in spec.get("ingress", []):
            if rule.get("ports") and port not in [p["port"] for p in rule["ports"]]:
                continue
            if "from" not in rule:
                return True
            for peer in rule["from"]:
                peer_namespace = (
                    "otop-mobile"
                    if "namespaceSelector" not in peer
                    else peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                )
                if namespace == peer_namespace and _selects(peer.get("podSelector", {}), source_labels):
                    return True
    return False


def test_kubernetes_network_policies_let_each_port_be_reached_only_by_whom_it_serves():
    """Issue 21: only the gateway and Prometheus reach the services' HTTP port, only the services (and the
    Kafka provisioning) Kafka's services' listener, only the brokers its controller port, only sales the Kafka
    provisioner; everything else in the namespace is denied by default."""
    policies = [d for d in k8s_documents() if d["kind"] == "NetworkPolicy"]
    [deny] = [p for p in policies if p["spec"]["podSelector"] == {}]
    assert deny["spec"]["policyTypes"] == ["Ingress"] and not deny["spec"].get("ingress")
    pods = [
        *SERVICES,
        "gateway",
        "kafka",
        "keycloak",
        "kafka-provisioner",
        "kafka-provision",
        "postgres-provision",
    ]
    everyone = [(pod, "otop-mobile") for pod in pods] + [("prometheus", "monitoring"), ("outsider", None)]

    def reaching(target: str, port: int) -> set[str]:
        return {source for source, ns in everyone if _admitted(policies, source, ns, target, port)}

    for service in SERVICES:
        assert reaching(service, 8000) == {"gateway", "prometheus"}, service
    assert reaching("kafka", 9092) == {*SERVICES, "kafka", "kafka-provision", "kafka-provisioner"}
    assert reaching("kafka", 9093) == {"kafka"}
    assert "outsider" in reaching("kafka", 9094)  # POS integrations, over TLS, integrations only
    assert reaching("kafka-provisioner", 8000) == {"sales"}
    assert "outsider" not in reaching("keycloak", 8080) and "gateway" in reaching("keycloak", 8080)
    assert reaching("gateway", 8080) == {source for source, _ in everyone}


def test_compose_publishes_prometheus_grafana_and_keycloak_on_this_host_only():
    """Issue 21: whatever OTOP_GATEWAY_BIND opens, the monitoring tools and Keycloak's own port stay on
    127.0.0.1 (people reach Keycloak through the gateway's /auth)."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana", "keycloak"):
        assert compose[name]["ports"] and all(
            port.startswith("127.0.0.1:") for port in compose[name]["ports"]
        ), name
    # TLS only, the host port settable (OTOP_GATEWAY_PORT, e.g. a free one in the container test)
    assert compose["gateway"]["ports"] == ["${OTOP_GATEWAY_BIND:-127.0.0.1}:${OTOP_GATEWAY_PORT:-8443}:8443"]
