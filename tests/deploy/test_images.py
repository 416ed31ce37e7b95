"""What the images are built from (scripts/build-images.sh): the services' image installs requirements.txt
without the test and lint tools, and every Dockerfile starts from the one base of the build argument BASE."""

import importlib.util
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location(
    "runtime_requirements", REPO / "deploy/images/runtime-requirements.py"
)
assert spec and spec.loader
runtime_requirements = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runtime_requirements)


def names(lines: list[str]) -> set[str]:
    return {m[1].lower() for line in lines if (m := re.match(r"\s*([A-Za-z0-9_.-]+)", line.split("#")[0]))}


def test_the_services_image_gets_the_runtime_pins_only():
    pinned = (REPO / "requirements.txt").read_text().splitlines()
    kept = runtime_requirements.runtime(pinned)
    assert all(re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[\w.]+", line) for line in kept), kept
    assert {"faststream", "sqlalchemy", "weasyprint", "uvicorn", "confluent-kafka"} <= names(kept)
    assert not names(kept) & {"pytest", "ruff", "mypy", "playwright", "kubernetes-validate"}
    # Each name left out is pinned (a stale entry would hide nothing).
    assert runtime_requirements.NOT_IN_RUNTIME <= names(pinned)


def test_every_image_is_built_from_the_one_base():
    dockerfiles = sorted(REPO.glob("deploy/**/Dockerfile"))
    assert len(dockerfiles) == 6
    for dockerfile in dockerfiles:
        text = dockerfile.read_text()
        assert "ARG BASE=debian:bookworm-slim" in text, dockerfile
        assert set(re.findall(r"^FROM (\S+)", text, re.M)) == {"${BASE}"}, dockerfile
        assert "ARG REVISION" in text and "org.opencontainers.image.revision" in text
        assert "HEALTHCHECK" in text and re.search(r"^USER (?!root)\w+", text, re.M), dockerfile
        # The extra CA is a build secret of build stages only: never copied into a final stage.
        assert "COPY --from" not in text or "extra_ca" not in text.split("COPY --from")[-1]
