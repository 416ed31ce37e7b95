"""Every Kubernetes manifest, as `kustomize build deploy/k8s` renders it, is valid against the Kubernetes
API's schemas (kubernetes-validate's, shipped in the package: offline, strict, so an unknown or misspelt field
fails too). No cluster runs here (no node images can be had): this is what is checked without one."""

import os
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

REPO = Path(__file__).resolve().parents[2]
# The Kubernetes version the manifests are written for (the schemas' version).
KUBERNETES_VERSION = "1.33.0"
# Kinds the API server does not define (none today): they would be checked against their CRD's schema.
CUSTOM_KINDS: set[str] = set()


def kustomize() -> list[str]:
    """`kustomize` as scripts/setup.sh installs it (from the Go module proxy), else one on the PATH."""
    installed = Path(os.environ.get("OTOP_TOOLS_DIR", Path.home() / ".cache/otop-tools")) / "bin/kustomize"
    found = str(installed) if installed.exists() else shutil.which("kustomize")
    if found is None:
        pytest.fail("kustomize not found: run scripts/setup.sh (it installs it from the Go module proxy)")
    return [found]


def rendered() -> list[dict]:
    out = subprocess.run(
        [*kustomize(), "build", str(REPO / "deploy/k8s")], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return [document for document in yaml.safe_load_all(out.stdout) if document]


def test_the_kustomization_renders_every_manifest_into_the_namespace_with_the_built_images():
    documents = rendered()
    listed = yaml.safe_load((REPO / "deploy/k8s/kustomization.yaml").read_text())
    names = set()
    for resource in listed["resources"]:
        for document in yaml.safe_load_all((REPO / "deploy/k8s" / resource).read_text()):
            if document:
                names.add((document["kind"], document["metadata"]["name"]))
    assert {(d["kind"], d["metadata"]["name"]) for d in documents} == names
    for document in documents:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == listed["namespace"], document["metadata"]
    images = {
        container["image"]
        for document in documents
        for pod in [document.get("spec", {}).get("template", {}).get("spec", {})]
        for container in pod.get("containers", []) + pod.get("initContainers", [])
    }
    renamed = {f"{i['newName']}:{i['newTag']}" for i in listed["images"]}
    assert images and images <= renamed, images - renamed


def test_every_rendered_manifest_is_valid_against_the_kubernetes_api_schemas():
    documents = rendered()
    assert KUBERNETES_VERSION in all_versions()
    checked = []
    for document in documents:
        assert document["kind"] not in CUSTOM_KINDS
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{document['kind']}/{document['metadata']['name']}: {error.message} at {error.path}")
        checked.append(document["kind"])
    assert {"Deployment", "StatefulSet", "Service", "Job", "HorizontalPodAutoscaler", "Ingress"} <= set(
        checked
    )


def test_a_wrong_manifest_is_refused():
    """The check can fail: a misspelt field and a wrong type are caught."""
    [deployment] = [d for d in rendered() if d["kind"] == "Deployment" and d["metadata"]["name"] == "sales"]
    misspelt = yaml.safe_load(yaml.safe_dump(deployment))
    misspelt["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    wrong_type = yaml.safe_load(yaml.safe_dump(deployment))
    wrong_type["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "8000"
    for document in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
