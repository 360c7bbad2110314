"""The production compose stack, checked statically (no Docker engine runs here): it follows the
Compose Specification, every service the issue names is there with a health check, every file it
mounts or builds from exists, and its secrets come from the environment, never from the file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "redis",
    "airflow-db",
    "warehouse",
    "simulator",
    "metabase",
}
ONE_SHOT = {"airflow-init"}  # runs to completion; the others wait for it to succeed


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_file_follows_the_compose_specification(compose):
    schema = json.loads((Path(__file__).parent / "compose_spec.schema.json").read_text())
    errors = [
        f"{'/'.join(map(str, e.path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_every_named_service_is_there_and_reports_its_health(compose):
    services = compose["services"]
    assert set(services) >= SERVICES
    for name, service in services.items():
        if name in ONE_SHOT:
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    waits = services["airflow-apiserver"]["depends_on"]
    assert waits["airflow-init"]["condition"] == "service_completed_successfully"


def test_everything_mounted_or_built_exists(compose):
    for name, service in compose["services"].items():
        build = service.get("build")
        if build:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            assert (context / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source")
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose.get("volumes", {}), f"{name}: undeclared volume {source}"
    for copied in re.findall(r"^COPY \S+ (.+) /\S+$", (REPO / "Dockerfile").read_text(), re.M):
        for path in copied.split():
            assert (REPO / path).exists(), f"the Dockerfile copies missing {path}"


def test_secrets_come_from_an_uncommitted_env_file(compose):
    text = COMPOSE.read_text()
    for key in ("PASSWORD", "TOKEN"):
        for line in text.splitlines():
            match = re.match(rf"\s+\w*{key}\w*:\s*(\S+)", line)
            if match:
                assert match[1].startswith("${"), f"a literal secret in the compose file: {line}"
    assert ".env" in (REPO / ".gitignore").read_text().split()
    example = (REPO / ".env.example").read_text()
    referenced = set(re.findall(r"(?<!\$)\$\{(\w+)", text)) - {"AIRFLOW_UID"}
    assert referenced <= set(re.findall(r"^(\w+)=", example, re.M)), "undocumented variables"


def test_the_image_extends_the_airflow_version_the_project_pins():
    pinned = re.search(r'"apache-airflow==([\d.]+)"', (REPO / "pyproject.toml").read_text())[1]
    assert f"FROM apache/airflow:{pinned}-python3.11" in (REPO / "Dockerfile").read_text()
