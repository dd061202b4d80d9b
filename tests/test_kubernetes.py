"""deploy/kubernetes, read without a cluster: the Kubernetes API schema, checkov, and what fila needs of it.

No cluster runs here (README, "Kubernetes" gives the commands for a real one); these tests check
every manifest against Kubernetes's own schema (kubernetes-validate, strict), every security
check checkov knows, and that the manifests agree with fila: its settings, secrets, probes, queues.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.core.settings import Settings
from tests.support import compose
from tests.support.processes import BIN, ROOT
from web import create_app

pytestmark = pytest.mark.slow

DIRECTORY = ROOT / "deploy" / "kubernetes"
CHECKOV = ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}


def kustomization() -> dict:
    return yaml.safe_load((DIRECTORY / "kustomization.yaml").read_text())


def manifests() -> list[Path]:
    return [DIRECTORY / name for name in kustomization()["resources"]]


def objects() -> list[dict]:
    return [doc for path in manifests() for doc in yaml.safe_load_all(path.read_text()) if doc]


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in objects() if doc["kind"] == kind}


def secret_keys() -> set[str]:
    return set(compose.read_env_file(DIRECTORY / "secrets.env.example"))


def containers() -> list[dict]:
    workloads = [*by_kind("Deployment").values(), *by_kind("StatefulSet").values()]
    return [container for doc in workloads for container in doc["spec"]["template"]["spec"]["containers"]]


def test_kustomize_lists_every_manifest_and_generates_the_secret_from_a_git_ignored_file():
    listed = {path.name for path in manifests()}
    on_disk = {path.name for path in DIRECTORY.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk
    (generator,) = kustomization()["secretGenerator"]
    assert generator["name"] == "fila-secrets" and generator["envs"] == ["secrets.env"]
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DIRECTORY / "secrets.env")], cwd=ROOT)
    assert ignored.returncode == 0  # a user's real passwords never get committed
    assert {image["name"] for image in kustomization()["images"]} == {"fila-web", "fila-worker"}


def test_every_manifest_matches_the_kubernetes_api_schema():
    files = [str(path) for path in manifests()]
    run = subprocess.run([str(BIN / "kubernetes-validate"), "--strict", *files], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    passed = run.stdout.count(" passed for resource ")
    assert passed == sum(1 for doc in objects() if doc["kind"] not in KEDA_KINDS)  # every built-in object checked


def test_checkov_finds_nothing_and_every_skip_says_why():
    run = subprocess.run([str(CHECKOV), "-d", str(DIRECTORY), "--framework", "kubernetes", "--skip-download",
                          "--output", "json"], capture_output=True, text=True)
    report = json.loads(run.stdout)
    assert report["summary"]["failed"] == 0 and report["summary"]["parsing_errors"] == 0, run.stdout[-3000:]
    assert report["summary"]["passed"] > 100
    skipped = report["results"]["skipped_checks"]
    assert skipped and all(len(check["check_result"]["suppress_comment"]) > 40 for check in skipped)
    assert {check["check_id"] for check in skipped} <= {"CKV_K8S_35", "CKV_K8S_43"}  # secrets as env, digests


def test_pods_are_locked_down():
    for doc in [*by_kind("Deployment").values(), *by_kind("StatefulSet").values()]:
        pod = doc["spec"]["template"]["spec"]
        name = doc["metadata"]["name"]
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] >= 10000, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] and not context["allowPrivilegeEscalation"], name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert container["resources"]["requests"] and container["resources"]["limits"], name
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name  # writable /tmp only
            assert container["readinessProbe"] and container["livenessProbe"], name
    assert "ReadWriteOnce" in by_kind("StatefulSet")["redis"]["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"]
    assert set(by_kind("PodDisruptionBudget")) == {"web", "worker"}
    (deny,) = [p for p in by_kind("NetworkPolicy").values() if p["spec"]["podSelector"] == {}]
    assert deny["spec"]["policyTypes"] == ["Ingress"] and "ingress" not in deny["spec"]


def test_probes_use_fila_s_own_checks():
    deployments = by_kind("Deployment")
    web = deployments["web"]["spec"]["template"]["spec"]["containers"][0]
    probes = web["readinessProbe"]["httpGet"]["path"], web["livenessProbe"]["httpGet"]["path"]
    assert probes == ("/readyz", "/healthz")
    app = create_app({"SETTINGS": Settings(redis_url="redis://127.0.0.1:1/0"), "TESTING": True})
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert {"/readyz", "/healthz", "/metrics"} <= routes
    for name, kind in (("worker", "worker"), ("worker-alta", "worker"), ("rq-worker", "rq")):
        probe = deployments[name]["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe["exec"]["command"] == ["fila", "health", kind]
    # The same commands as compose.yaml runs.
    spec = compose.load()
    for name in ("web", "worker", "worker-alta", "rq-worker", "dashboard"):
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["command"] == \
            spec["services"][name]["command"], name


def test_settings_and_secrets_are_fila_s():
    known = {name for name, _, _ in Settings.variables()}
    config = by_kind("ConfigMap")["fila-config"]["data"]
    assert set(config) <= known
    for container in containers():
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert reference["name"] == "fila-secrets" and reference["key"] in secret_keys(), reference
    for auth in by_kind("TriggerAuthentication").values():
        assert {ref["key"] for ref in auth["spec"]["secretTargetRef"]} <= secret_keys()
    # The same Redis users as compose.yaml, with the same rights: the same script runs.
    redis = by_kind("StatefulSet")["redis"]["spec"]["template"]["spec"]
    assert redis["containers"][0]["command"] == compose.load()["services"]["redis"]["command"]
    mounted = {mount["name"]: mount["mountPath"] for mount in redis["containers"][0]["volumeMounts"]}
    (start,) = [volume for volume in redis["volumes"] if volume["name"] == "start"]
    script = by_kind("ConfigMap")[start["configMap"]["name"]]["data"]["redis-start.sh"]
    assert script == (ROOT / "deploy/redis/redis-start.sh").read_text()
    assert mounted["start"] + "/redis-start.sh" == redis["containers"][0]["command"][1]
    given = {variable["name"] for variable in redis["containers"][0]["env"]}
    assert {"REDIS_PASSWORD", "REDIS_WEB_PASSWORD", "REDIS_WORKER_PASSWORD", "REDIS_RQ_PASSWORD"} <= given
    # Each workload logs in as its own user.
    deployments = by_kind("Deployment")
    for name, user in (("web", "web"), ("worker", "worker"), ("worker-alta", "worker"), ("rq-worker", "rq")):
        env = {v["name"]: v.get("value") for v in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["REDIS_URL"].startswith(f"redis://{user}:"), name


def test_the_priority_queue_has_its_own_workers_and_redis_lets_them_take_it():
    config = by_kind("ConfigMap")["fila-config"]["data"]
    queues = Settings.from_env({"QUEUES": config["QUEUES"]}).queue_names
    alta = by_kind("Deployment")["worker-alta"]["spec"]["template"]["spec"]["containers"][0]
    wanted = {v["name"]: v.get("value") for v in alta["env"]}["WORKER_QUEUES"]
    assert wanted in queues and wanted != queues[0]
    redis = by_kind("StatefulSet")["redis"]["spec"]["template"]["spec"]["containers"][0]
    given = {v["name"]: v.get("valueFrom") for v in redis["env"]}
    assert given["QUEUES"] == {"configMapKeyRef": {"name": "fila-config", "key": "QUEUES"}}


def test_keda_scales_each_worker_on_its_own_queue():
    settings = Settings()
    from rq import Queue

    deployments = by_kind("Deployment")
    scaled = by_kind("ScaledObject")
    rq_list = Queue.redis_queue_namespace_prefix + settings.job_queue_name
    config = by_kind("ConfigMap")["fila-config"]["data"]
    alta = {v["name"]: v.get("value") for v in
            deployments["worker-alta"]["spec"]["template"]["spec"]["containers"][0]["env"]}["WORKER_QUEUES"]
    assert alta in config["QUEUES"].split(",")
    expected = {"worker": settings.queue_name, "worker-alta": alta, "rq-worker": rq_list}
    assert set(scaled) == set(expected)
    for name, listed in expected.items():
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name and name in deployments
        assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == listed
        assert int(trigger["metadata"]["listLength"]) > 0
        assert trigger["metadata"]["address"].startswith("redis.fila.svc")
        assert trigger["authenticationRef"]["name"] in by_kind("TriggerAuthentication")
    redis_policy = by_kind("NetworkPolicy")["redis"]["spec"]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}} in redis_policy


def test_the_keda_prometheus_variant_scales_workers_on_a_metric_fila_serves(client):
    overlay = DIRECTORY / "keda-prometheus"
    kustomize = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    assert kustomize["resources"] == ["../"]
    (patch,) = kustomize["patches"]
    scaled = yaml.safe_load((overlay / patch["path"]).read_text())
    assert scaled["kind"] == "ScaledObject" and scaled["metadata"]["name"] in by_kind("ScaledObject")
    assert scaled["metadata"]["namespace"] == by_kind("ScaledObject")["worker"]["metadata"]["namespace"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "prometheus" and float(trigger["metadata"]["threshold"]) == 1
    query = trigger["metadata"]["query"]
    (metric,) = re.findall(r"\b(fila_\w+)\{", query)
    served = client.get("/metrics").get_data(as_text=True)
    assert re.search(rf'^{metric}\{{queue="{Settings().queue_name}"\}} ', served, re.MULTILINE), metric
    assert f'queue="{Settings().queue_name}"' in query
