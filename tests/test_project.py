"""Project-level contracts: the compose topology, the import direction, the set-up."""

import ast
import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_production_topology():
    services = compose()["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker", "beat"):
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


def test_every_compose_command_exists_in_the_project():
    """Each app service runs something this checkout provides: a module, a command, a file."""
    from django.core.management import get_commands

    for name, service in compose()["services"].items():
        command = service.get("command")
        if not command or name in {"postgres", "redis"}:
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
