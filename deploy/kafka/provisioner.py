"""The Kafka provisioner (docs/security.md): the one process whose principal (`kafka-provisioner`) holds
ALTER on the Kafka cluster, the right to change any ACL and any SCRAM credential. It does one thing with it:
create, re-key and delete POS integrations' principals for the sales service, and it refuses every name
that is not an integration's (`pos-<province>-<uuid>`), so a service, the super user or itself are out of
its reach, and the grants are always the integration's fixed ones (write the ingress topic, nothing else).

    OTOP_KAFKA_BOOTSTRAP=... OTOP_KAFKA_USERNAME=kafka-provisioner OTOP_KAFKA_PASSWORD=... \\
    OTOP_KAFKA_PROVISIONER_TOKEN=<32+ characters, the sales service's too> \\
    uvicorn --factory deploy.kafka.provisioner:app --host <internal address> --port 8000

Its callers authenticate with the bearer token `OTOP_KAFKA_PROVISIONER_TOKEN` (the sales service is the
only one given it); its network reach is the sales service alone (deploy/k8s/network-policies.yaml).
It keeps no state: the broker holds the principals. The passwords it makes are answered once and kept
nowhere (the broker keeps a salted SCRAM hash).
"""

import hmac
import secrets
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Response
from pydantic import Field, SecretStr

from deploy.local.processes import ServiceProcess
from shared.kafka_access import INTEGRATION_GRANTS, KafkaAccess, is_integration_username
from shared.kafka_client import kafka_env
from shared.settings import KafkaSettings


class ProvisionerSettings(KafkaSettings):
    """Its own principal's connection, and the token its callers present."""

    kafka_provisioner_token: SecretStr = Field(min_length=32)


def app(settings: ProvisionerSettings | None = None) -> FastAPI:
    settings = settings or ProvisionerSettings()
    access = KafkaAccess(settings)
    token = settings.kafka_provisioner_token.get_secret_value().encode()
    api = FastAPI(title="Kafka provisioner", docs_url=None, redoc_url=None, openapi_url=None)

    def caller(authorization: Annotated[str, Header()] = "") -> None:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token):
            raise HTTPException(
                401, "a bearer token of the provisioner is needed", {"WWW-Authenticate": "Bearer"}
            )

    def integration(username: Annotated[str, Path(max_length=64)]) -> str:
        if not is_integration_username(username):
            raise HTTPException(
                403, "only POS integrations' principals (pos-<province>-<uuid>) are provisioned"
            )
        return username

    Caller = Depends(caller)
    Integration = Annotated[str, Depends(integration)]

    @api.put("/integration-principals/{username}", dependencies=[Caller])
    async def create(username: Integration) -> dict[str, str]:
        """The principal with a new password and exactly the integration's grants."""
        password = secrets.token_urlsafe(32)
        await access.grant(username, password, INTEGRATION_GRANTS)
        return {"kafka_username": username, "kafka_password": password}

    @api.post("/integration-principals/{username}/password", dependencies=[Caller])
    async def new_password(username: Integration) -> dict[str, str]:
        """Rotation: the old password stops working for new connections at once; the grants stay."""
        password = secrets.token_urlsafe(32)
        await access.set_password(username, password)
        return {"kafka_username": username, "kafka_password": password}

    @api.delete("/integration-principals/{username}", status_code=204, dependencies=[Caller])
    async def delete(username: Integration) -> Response:
        """Its ACLs, then its credential; no error if it is gone already."""
        await access.revoke(username)
        return Response(status_code=204)

    @api.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return api


def local_process(principal: KafkaSettings, token: str, port: int, log_path: FilePath) -> ServiceProcess:
    """The provisioner as a process on this machine (the local stack, tests), on 127.0.0.1:`port`."""
    env = {**kafka_env(principal), "OTOP_KAFKA_PROVISIONER_TOKEN": token}
    return ServiceProcess("kafka-provisioner", port, env, log_path, factory="deploy.kafka.provisioner:app")


def sales_env(process: ServiceProcess, token: str) -> dict[str, str]:
    """What the sales service needs to reach it."""
    return {"OTOP_SALES_KAFKA_PROVISIONER_URL": process.url, "OTOP_SALES_KAFKA_PROVISIONER_TOKEN": token}
