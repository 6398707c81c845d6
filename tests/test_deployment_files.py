"""The deployment files (Dockerfile, deploy/compose.yaml, deploy/kubernetes/) are checked here,
since no container engine or cluster runs on the machines that test the project:

- every Kubernetes manifest validates, strictly (no unknown field), against the API schemas of
  a supported Kubernetes release (kubernetes-validate carries them: nothing is downloaded);
- the compose file is what ``docker compose config`` accepts, and refuses to start without its
  secrets (run with Debian's docker-compose where installed);
- what they say agrees with the project: commands, probe paths, the user, the variables (each
  one a setting of .env.example), and the docs name them.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBERNETES = ROOT / "deploy" / "kubernetes"
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
# The oldest Kubernetes release the manifests promise to apply to (docs/deployment).
KUBERNETES_VERSION = "1.30.0"
SECRETS = {
    "SECRET_KEY": "k" * 50,
    "POSTGRES_PASSWORD": "pg-password",
    "S3_SECRET_KEY": "s3-password",
    "SELLER_LEGAL_NAME": "Parque",
    "SELLER_TAX_ID": "3-101",
    "SELLER_ADDRESS": "Puntarenas",
}


def settings_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def manifests() -> dict[str, list[dict[str, Any]]]:
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
        for path in sorted(KUBERNETES.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    }


def resource(kind: str, name: str) -> dict[str, Any]:
    for docs in manifests().values():
        for doc in docs:
            if doc["kind"] == kind and doc["metadata"]["name"] == name:
                return doc
    raise AssertionError(f"no {kind} {name}")


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]


# --- Kubernetes --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(manifests()))
def test_each_manifest_validates_strictly_against_the_kubernetes_api(name):
    import kubernetes_validate

    for doc in manifests()[name]:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_a_manifest_with_a_mistake_is_refused_by_the_validation():
    """The control: the check above can fail (a misspelt field, a wrong type)."""
    import kubernetes_validate
    from jsonschema import ValidationError

    web = resource("Deployment", "web")
    web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/"
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)
    hpa = resource("HorizontalPodAutoscaler", "web")
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_but_the_example_secret():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        name for name in manifests() if name != "secret.example.yaml"
    )
    assert [image["name"] for image in kustomization["images"]] == ["parque-marino"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_the_whole_installation(tmp_path):
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    kinds = sorted(
        f"{doc['kind']}/{doc['metadata']['name']}" for doc in yaml.safe_load_all(rendered)
    )
    assert kinds == [
        "ConfigMap/parque-marino",
        "Deployment/beat",
        "Deployment/web",
        "Deployment/worker",
        "HorizontalPodAutoscaler/web",
        "Job/migrate",
        "Namespace/parque-marino",
        "PodDisruptionBudget/web",
        "PodDisruptionBudget/worker",
        "Service/web",
    ]
    assert "image: registry.example.org/parque-marino:2026.12" in rendered


def test_the_web_pods_are_probed_on_health_and_scaled_and_protected():
    web = resource("Deployment", "web")
    container = pod_spec(web)["containers"][0]
    allowed = resource("ConfigMap", "parque-marino")["data"]["ALLOWED_HOSTS"].split(",")
    probes = {
        kind: (
            container[kind]["httpGet"]["path"],
            {h["name"]: h["value"] for h in container[kind]["httpGet"]["httpHeaders"]},
        )
        for kind in ("readinessProbe", "livenessProbe", "startupProbe")
    }
    assert probes == {
        "readinessProbe": ("/health/ready/", {"Host": allowed[0]}),
        "livenessProbe": ("/health/live/", {"Host": allowed[0]}),
        "startupProbe": ("/health/live/", {"Host": allowed[0]}),
    }
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    hpa = resource("HorizontalPodAutoscaler", "web")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert container["resources"]["requests"]["cpu"]  # utilization needs a request
    for name in ("web", "worker"):
        pdb = resource("PodDisruptionBudget", name)
        deployment = resource("Deployment", name)
        assert (
            pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        )
        assert pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_every_pod_runs_the_image_unprivileged_with_the_settings():
    dockerfile = DOCKERFILE.read_text()
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
    assert user is not None
    for kind, name in [
        ("Deployment", "web"),
        ("Deployment", "worker"),
        ("Deployment", "beat"),
        ("Job", "migrate"),
    ]:
        spec = pod_spec(resource(kind, name))
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == int(user.group(1))
        assert spec["automountServiceAccountToken"] is False
        (container,) = spec["containers"]
        assert container["image"] == "parque-marino"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["envFrom"] == [
            {"configMapRef": {"name": "parque-marino"}},
            {"secretRef": {"name": "parque-marino"}},
        ]
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert mounts == {"/tmp"}  # noqa: S108 (an emptyDir: the only writable folder)


def test_the_upgrade_can_apply_the_settings_and_the_migration_alone():
    """docs/deployment, "Upgrades": `kubectl apply -k … -l 'app.kubernetes.io/component in
    (config,migrate)'` applies the ConfigMap and the Job and nothing that serves."""
    selected = sorted(
        f"{doc['kind']}/{doc['metadata']['name']}"
        for docs in manifests().values()
        for doc in docs
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        in ("config", "migrate")
    )
    assert selected == ["ConfigMap/parque-marino", "Job/migrate"]
    docs = (ROOT / "docs" / "deployment" / "README.md").read_text()
    assert "-l 'app.kubernetes.io/component in (config,migrate)'" in docs


def test_the_commands_are_the_ones_the_docs_give():
    commands = {
        name: pod_spec(resource(kind, name))["containers"][0].get("command")
        for kind, name in [
            ("Deployment", "web"),
            ("Deployment", "worker"),
            ("Deployment", "beat"),
            ("Job", "migrate"),
        ]
    }
    assert commands["web"] is None  # the image's CMD: gunicorn -c config/gunicorn.py
    assert commands["worker"][:5] == ["celery", "-A", "config", "worker", "--loglevel"]
    assert commands["beat"][:4] == ["celery", "-A", "config", "beat"]
    assert commands["migrate"] == ["python", "manage.py", "migrate", "--noinput"]
    assert resource("Deployment", "beat")["spec"]["replicas"] == 1
    assert resource("Deployment", "beat")["spec"]["strategy"] == {"type": "Recreate"}
    assert 'exec gunicorn -c config/gunicorn.py config.wsgi"]' in DOCKERFILE.read_text()


def test_the_settings_given_to_the_pods_are_settings_of_the_project():
    known = settings_names()
    configmap = set(resource("ConfigMap", "parque-marino")["data"])
    secret = set(resource("Secret", "parque-marino")["stringData"])
    assert configmap - known == set()
    assert secret - known == set()
    assert configmap & secret == set()
    # What the production settings require is given.
    required = {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    assert required <= configmap | secret
    assert {"SELLER_LEGAL_NAME", "SELLER_TAX_ID", "SELLER_ADDRESS"} <= configmap


# --- The image ---------------------------------------------------------------------------


def test_the_dockerfile_builds_slim_unprivileged_with_static_files_and_a_health_check():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.MULTILINE)
    assert stages == [("${PYTHON_IMAGE}", "build"), ("${PYTHON_IMAGE}", "runtime")]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim-bookworm$", text, re.MULTILINE)
    assert "uv sync --frozen --no-dev" in text  # the lock file, as on a server
    assert "manage.py collectstatic --noinput" in text
    assert "manage.py compilemessages" in text
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE)
    assert 'CMD ["python", "scripts/healthcheck"]' in text
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    uv_version = re.search(r'UV_VERSION="\$\{UV_VERSION:-([\d.]+)\}"', bootstrap)
    assert uv_version is not None
    assert f"ARG UV_VERSION={uv_version.group(1)}" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".env", "media", "private"} <= set(ignored)


def test_the_web_command_serves_on_an_empty_tmp_as_kubernetes_gives_it(tmp_path):
    """The image's CMD, run as its shell line says, with gunicorn swapped for one request
    through Django: PROMETHEUS_MULTIPROC_DIR under a fresh, empty /tmp (an emptyDir hides
    whatever the image had there) is made before the first metric is written."""
    found = re.search(r"^CMD (\[.*gunicorn.*\])$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found is not None
    command = json.loads(found[1])
    assert command[:2] == ["sh", "-c"]
    line = command[2].replace(
        "exec gunicorn -c config/gunicorn.py config.wsgi", 'exec "$PYTHON" -c "$REQUEST"'
    )
    assert line != command[2]
    empty_tmp = tmp_path / "tmp"
    empty_tmp.mkdir()
    request = (
        "import django; django.setup()\n"
        "from django.test.utils import setup_test_environment; setup_test_environment()\n"
        "from django.test import Client\n"
        "print(Client().get('/health/live/').status_code)\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PROMETHEUS_MULTIPROC_DIR": str(empty_tmp / "prometheus"),
        "PYTHON": sys.executable,
        "REQUEST": request,
    }
    served = subprocess.run(
        ["sh", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert (served.returncode, served.stdout.strip()) == (0, "200"), served.stderr[-800:]
    assert list((empty_tmp / "prometheus").glob("*.db"))  # the metrics were written there


# --- Compose -----------------------------------------------------------------------------


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def compose_config(env: dict[str, str]) -> subprocess.CompletedProcess:
    command = compose_command()
    if command is None:
        pytest.skip("no docker compose here (.ci/run installs Debian's docker-compose)")
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS}
    return subprocess.run(
        [*command, "-f", str(COMPOSE), "config"],
        cwd=COMPOSE.parent,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_compose_accepts_the_file_and_refuses_to_start_without_its_secrets():
    accepted = compose_config(SECRETS)
    assert accepted.returncode == 0, accepted.stderr
    config = yaml.safe_load(accepted.stdout)
    assert config["services"]["web"]["environment"]["SECRET_KEY"] == "k" * 50
    missing = compose_config({key: value for key, value in SECRETS.items() if key != "SECRET_KEY"})
    assert missing.returncode != 0
    assert "set SECRET_KEY" in missing.stderr


def test_compose_runs_the_release_steps_in_order_with_the_projects_settings():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert sorted(services) == [
        "beat",
        "buckets",
        "migrate",
        "postgres",
        "redis",
        "s3",
        "web",
        "worker",
    ]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    # The image's pg_dump (Debian bookworm: PostgreSQL 15) refuses a newer server.
    assert "slim-bookworm" in DOCKERFILE.read_text()
    assert services["postgres"]["image"] == "postgres:15-bookworm"
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    assert services["web"]["healthcheck"]["test"] == ["CMD", "python", "scripts/healthcheck"]
    environment = compose["x-app"]["environment"]
    assert set(environment) - settings_names() == set()
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    # The values compose refuses to start without are the ones the example env file names.
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required == set(SECRETS)
    example = set(
        re.findall(r"^(\w+)=", (ROOT / "deploy" / "compose.env.example").read_text(), re.M)
    )
    assert required <= example


def test_the_deployment_docs_name_the_files_and_the_commands():
    docs = (ROOT / "docs" / "deployment" / "README.md").read_text()
    for text in (
        "docker build",
        "deploy/compose.yaml",
        "deploy/kubernetes",
        "kubectl apply -k deploy/kubernetes",
        "migrate-job.yaml",
        "secret.example.yaml",
    ):
        assert text in docs, text
