"""Prints requirements.txt without the packages only tests and tools need: what the services' image
installs (deploy/Dockerfile). A new pin is in the image unless it is named here.
    python3 deploy/images/runtime-requirements.py requirements.txt >runtime.txt"""

import re
import sys

NOT_IN_RUNTIME = {
    "pytest",
    "pytest-asyncio",
    "pytest-timeout",
    "testcontainers",
    "jsonschema",
    "kubernetes-validate",
    "playwright",
    "selenium",
    "hypothesis",
    "schemathesis",
    "pypdf",
    "ruff",
    "mypy",
}


def runtime(lines: list[str]) -> list[str]:
    kept = []
    for line in lines:
        name = re.match(r"\s*([A-Za-z0-9_.-]+)", line.split("#", 1)[0])
        if name and name.group(1).lower().replace("_", "-") not in NOT_IN_RUNTIME:
            kept.append(line.split("#", 1)[0].strip())
    return kept


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print("\n".join(runtime(file.read().splitlines())))
