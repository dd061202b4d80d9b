"""A Docker engine for the container tests: found, or started here, and base images that never need a pull.

    python -m tests.support.engine up     # start (or find) the engine, build the bases, print the env
    python -m tests.support.engine down   # stop the engine this helper started

Where an engine already answers (DOCKER_HOST, or /var/run/docker.sock) it is used as it is. Otherwise,
as root, the helper installs what is missing (scripts/test-packages.sh: Debian's docker.io and
debootstrap, the Compose v2 plugin from trixie) and starts `dockerd` with its data under
FILA_ENGINE_CACHE (default ~/.cache/fila-engine), stopping it when the tests end.

Base images: where the real ones are on the engine (python:3.12.8-slim-bookworm, redis:7.4.2-alpine,
the Redis Commander and Prometheus images) they are used. Where they are not, nothing is pulled:
stand-ins are built from deploy/standins/ on a Debian bookworm made with debootstrap, once, and
reused by tag (the tag carries a hash of the recipe, so a changed recipe builds anew).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "deploy" / "standins"
CACHE = Path(os.environ.get("FILA_ENGINE_CACHE", Path.home() / ".cache" / "fila-engine"))
#: `FILA_CONTAINER_TESTS=skip` leaves the container tests out (make test says so loudly); CI never sets it.
OPT_OUT_VARIABLE = "FILA_CONTAINER_TESTS"
HOW_TO = ("the container tests need a Docker engine with the Compose v2 plugin: install Docker "
          "(https://docs.docker.com/engine/install/) or run make test as root on Debian so that it installs "
          f"docker.io itself; to leave these tests out say so explicitly: {OPT_OUT_VARIABLE}=skip make test")
BASE_TAG = "fila-standin/debian"
#: (compose variable, the real image, the stand-in's recipe in deploy/standins/).
IMAGES = (
    ("PYTHON_IMAGE", "python:3.12.8-slim-bookworm", "python.Dockerfile"),
    ("REDIS_IMAGE", "redis:7.4.2-alpine", "redis.Dockerfile"),
    ("COMMANDER_IMAGE", "ghcr.io/joeferner/redis-commander:0.9.0", "redis-commander.Dockerfile"),
    ("PROMETHEUS_IMAGE", "prom/prometheus:v2.53.3", "prometheus.Dockerfile"),
)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


class EngineUnavailable(RuntimeError):
    """No engine can be had here; the message says how to get one or how to opt out."""


def opted_out() -> bool:
    """Tell whether the user asked explicitly to leave the container tests out."""
    return os.environ.get(OPT_OUT_VARIABLE, "").strip().lower() == "skip"


@dataclass
class Engine:
    """A reachable Docker engine, and the images the compose files should use on it."""

    env: dict[str, str]
    images: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 600, check: bool = True, input: str | None = None,
            cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run `docker ARGS` against this engine and return the completed process (text)."""
        result = subprocess.run(["docker", *args], env={**os.environ, **self.env, **(env or {})}, cwd=cwd,
                                capture_output=True, text=True, timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def has_image(self, name: str) -> bool:
        """Tell whether the engine holds an image (no registry is asked)."""
        return self.run("image", "inspect", "--format", "{{.Id}}", name, check=False).returncode == 0

    def stop(self) -> None:
        """Stop the dockerd this helper started (an engine found running is left alone)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answers(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], env={**os.environ, **env},
                              capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _compose_works(env: dict[str, str]) -> bool:
    try:
        return subprocess.run(["docker", "compose", "version"], env={**os.environ, **env},
                              capture_output=True, timeout=20).returncode == 0
    except OSError:
        return False


def _install_packages() -> None:
    """Install docker.io, debootstrap and the Compose plugin (root on Debian only)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise EngineUnavailable(HOW_TO)
    subprocess.run(["sh", str(ROOT / "scripts" / "test-packages.sh")], check=False, timeout=900)


def _start_dockerd(timeout: float = 60) -> tuple[dict[str, str], subprocess.Popen]:
    CACHE.mkdir(parents=True, exist_ok=True)
    socket = CACHE / "docker.sock"
    env = {"DOCKER_HOST": f"unix://{socket}"}
    if _answers(env):  # left running by an earlier session that did not stop it: adopt it
        return env, None  # type: ignore[return-value]
    pid_file = CACHE / "dockerd.pid"
    pid_file.unlink(missing_ok=True)
    log = open(CACHE / "dockerd.log", "ab")
    process = subprocess.Popen(["dockerd", "--data-root", str(CACHE / "data"), "--exec-root", str(CACHE / "exec"),
                                "--pidfile", str(pid_file), "--host", env["DOCKER_HOST"]],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    from tests.support.polling import wait_for

    try:
        wait_for(lambda: _answers(env), timeout=timeout, interval=0.2, message="dockerd",
                 give_up=lambda: None if process.poll() is None else "dockerd exited")
    except AssertionError:
        process.kill()
        tail = (CACHE / "dockerd.log").read_text(errors="replace")[-2000:]
        raise EngineUnavailable(f"dockerd did not start (see {CACHE / 'dockerd.log'}):\n{tail}") from None
    return env, process


def start() -> Engine:
    """Find or start an engine with the Compose plugin; raise EngineUnavailable saying what to do."""
    began = time.monotonic()
    timings: dict[str, float] = {}
    candidates = [{"DOCKER_HOST": os.environ["DOCKER_HOST"]}] if os.environ.get("DOCKER_HOST") else [
        {"DOCKER_HOST": "unix:///var/run/docker.sock"}]
    if not shutil.which("docker") or (not shutil.which("dockerd") and not any(map(_answers, candidates))):
        _install_packages()
        timings["install packages"] = time.monotonic() - began
    process = None
    found = next((env for env in candidates if shutil.which("docker") and _answers(env)), None)
    if found is None:
        if os.geteuid() != 0 or not shutil.which("dockerd"):
            raise EngineUnavailable(HOW_TO)
        mark = time.monotonic()
        found, process = _start_dockerd()
        timings["start dockerd"] = time.monotonic() - mark
    if not _compose_works(found):
        _install_packages()
        if not _compose_works(found):
            raise EngineUnavailable(HOW_TO)
    return Engine(env=found, process=process, timings=timings)


def _digest(*paths: Path, extra: str = "") -> str:
    sha = hashlib.sha256(extra.encode())
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()[:12]


def _extra_certificates() -> list[Path]:
    """Return the machine's own CA certificates (a TLS-inspecting egress needs them inside builds)."""
    return sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))


def build_base(engine: Engine) -> str:
    """Import a Debian bookworm made by debootstrap (with this machine's CA certificates) once; return its tag."""
    certs = _extra_certificates()
    tag = f"{BASE_TAG}:bookworm-{_digest(*certs, extra='minbase+ca-certificates')}"
    if engine.has_image(tag):
        return tag
    if not shutil.which("debootstrap"):
        _install_packages()
    rootfs = CACHE / "rootfs"
    if rootfs.exists():
        shutil.rmtree(rootfs)
    subprocess.run(["debootstrap", "--variant=minbase", "--include=ca-certificates", "bookworm", str(rootfs),
                    "http://deb.debian.org/debian"], check=True, capture_output=True, timeout=600)
    target = rootfs / "usr/local/share/ca-certificates"
    target.mkdir(parents=True, exist_ok=True)
    for cert in certs:
        shutil.copy(cert, target / cert.name)
    subprocess.run(["chroot", str(rootfs), "update-ca-certificates"], check=True, capture_output=True)
    for junk in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        junk.unlink()
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
    archive = CACHE / "rootfs.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(rootfs, arcname=".")
    cert_env = " ".join(f"{name}={CA_BUNDLE}" for name in
                        ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"))
    engine.run("import", "--change", f"ENV {cert_env}", "--change",
               "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "--change", 'CMD ["bash"]',
               str(archive), tag)
    archive.unlink()
    shutil.rmtree(rootfs)
    return tag


def prepare_images(engine: Engine) -> dict[str, str]:
    """Return {PYTHON_IMAGE: ..., REDIS_IMAGE: ..., ...}: the real images if present, else stand-ins."""
    began = time.monotonic()
    chosen: dict[str, str] = {}
    wanted = []
    for variable, real, recipe in IMAGES:
        if engine.has_image(real):
            chosen[variable] = real
        else:
            wanted.append((variable, recipe))
    if wanted:
        base = build_base(engine)
        engine.timings["base image"] = time.monotonic() - began
        builds = []
        for variable, recipe in wanted:
            tag = f"fila-standin/{recipe.removesuffix('.Dockerfile')}:{_digest(STANDINS / recipe, extra=base)}"
            chosen[variable] = tag
            if not engine.has_image(tag):
                # The recipes build at once: each mostly waits on apt and npm.
                builds.append((tag, subprocess.Popen(
                    ["docker", "build", "--quiet", "--build-arg", f"BASE={base}", "--tag", tag, "--file",
                     str(STANDINS / recipe), str(STANDINS)], env={**os.environ, **engine.env},
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for tag, build in builds:
            output, _ = build.communicate(timeout=900)
            if build.returncode != 0:
                raise AssertionError(f"building the stand-in {tag} failed:\n{output[-3000:]}")
    engine.timings["stand-in images"] = time.monotonic() - began
    engine.images = chosen
    return chosen


def main(argv: list[str]) -> int:
    """`up`: start the engine and images, print the environment to use; `down`: stop our dockerd."""
    command = argv[0] if argv else "up"
    if command == "down":
        pid_file = CACHE / "dockerd.pid"
        if pid_file.exists():
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
            print("dockerd stopping")
        return 0
    try:
        engine = start()
    except EngineUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    images = prepare_images(engine)
    for key, value in {**engine.env, **images}.items():
        print(f"export {key}={value}")
    if engine.process is not None:
        engine.process = None  # keep it running for the developer; `down` stops it
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
