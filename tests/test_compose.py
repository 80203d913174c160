"""docker-compose.yml, Dockerfile and .env.example agree with the project and with Airflow 3.

No Docker engine is needed: the files are parsed and checked against the repository, the
lock file, the package's configuration and Airflow's own CLI parser.  What these tests
cannot show (the image builds, the stack starts, a night runs in it) is listed in
docs/production.md.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from next_steps.airflow.dag_defaults import WAREHOUSE_POOL, WAREHOUSE_POOL_SLOTS
from next_steps.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

CORE_SERVICES = {
    "postgres",
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
CELERY_SERVICES = {"redis", "airflow-worker"}
# Long-running Airflow components: each needs a health check and a migrated database.
AIRFLOW_DAEMONS = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
PROJECT_MOUNTS = {
    "./dags": "/opt/airflow/dags",
    "./plugins": "/opt/airflow/plugins",
    "./dbt_project": "/opt/airflow/dbt_project",
    "./expectations": "/opt/airflow/expectations",
}
DATA_DIR = "/opt/airflow/data"

# Compose interpolation: `$$` is a literal dollar, `${NAME...}` and `$NAME` are variables.
INTERPOLATION = re.compile(r"\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$")


def strings_in(node) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from strings_in(key)
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


def variables_used(node) -> set[str]:
    names = set()
    for text in strings_in(node):
        for match in INTERPOLATION.finditer(text):
            name = match.group(1) or match.group(2)
            if name:
                names.add(name)
    return names


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package["version"] for package in lock["package"]}


def shell_words(text: str) -> list[str]:
    """Words of a shell line as the container sees it: compose's `$$` is one `$`, and
    shell variables stand for some value."""
    text = text.replace("$$", "$")
    text = re.sub(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*", "value", text)
    return shlex.split(text)


def airflow_argv(words: list[str]) -> list[str] | None:
    """The arguments after `airflow` (or `/entrypoint airflow`), None for other commands."""
    if words[:1] == ["/entrypoint"]:
        words = words[1:]
    return words[1:] if words[:1] == ["airflow"] else None


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the anchors and `<<` merge keys the way Compose does.
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def airflow_services(services) -> dict[str, dict]:
    return {name: service for name, service in services.items() if "build" in service}


@pytest.fixture(scope="module")
def airflow_command_lines(services) -> list[list[str]]:
    """Every `airflow ...` invocation in the file: service commands (the image's entrypoint
    runs `airflow <command>`), the init script's lines and the health checks."""
    commands = []
    for service in services.values():
        if "build" not in service:
            continue
        command = service.get("command")
        if service.get("entrypoint") == "/bin/bash":
            script = command[command.index("-c") + 1]
            for line in script.replace("\\\n", " ").splitlines():
                words = shell_words(line)
                argv = airflow_argv(words) if words else None
                if argv:
                    commands.append(argv)
        elif command:
            commands.append(shell_words(command) if isinstance(command, str) else command)
        test = service.get("healthcheck", {}).get("test", [])
        if test[:1] == ["CMD-SHELL"]:
            argv = airflow_argv(shell_words(test[1]))
            if argv:
                commands.append(argv)
    return commands


@pytest.fixture(scope="module")
def airflow_cli(tmp_path_factory, airflow_command_lines) -> dict:
    """Parse every command line with Airflow's own CLI parser, in one subprocess."""
    probe = """
import argparse, contextlib, io, json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
groups = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
results = {}
for argv in json.loads(sys.argv[1]):
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
        results[" ".join(argv)] = ""
    except SystemExit:
        results[" ".join(argv)] = errors.getvalue().strip() or "rejected"
print(json.dumps({"groups": sorted(groups.choices), "results": results}))
"""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW__", "AIRFLOW_"))
    }
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # as docker-compose.yml: `users create` comes from the FAB auth manager and
        # `celery worker` from the celery provider, both in uv.lock
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CORE__AUTH_MANAGER=(
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
        ),
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(airflow_command_lines)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_the_stack_has_the_official_services(services):
    assert set(services) >= CORE_SERVICES | CELERY_SERVICES


def test_redis_and_the_celery_worker_start_only_with_the_celery_profile(services):
    for name in CELERY_SERVICES:
        assert services[name].get("profiles") == ["celery"], name
    for name in CORE_SERVICES:
        assert "profiles" not in services[name], f"{name} must start without a profile"
        # `docker compose up` without the profile refuses a dependency on a profiled service.
        assert not set(services[name].get("depends_on", {})) & CELERY_SERVICES, name


def test_the_executor_is_local_by_default_and_celery_is_chosen_in_the_env_file(
    airflow_services,
):
    for name, service in airflow_services.items():
        executor = service["environment"]["AIRFLOW__CORE__EXECUTOR"]
        assert executor == "${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}", name
    assert env_example()["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "CeleryExecutor" in text
    assert "COMPOSE_PROFILES=celery" in text


def test_every_airflow_service_runs_the_image_built_from_the_dockerfile(compose, airflow_services):
    assert set(airflow_services) == CORE_SERVICES - {"postgres"} | {"airflow-worker"}
    images = {service.get("image") for service in airflow_services.values()}
    assert len(images) == 1, "one image, built once"
    for name, service in airflow_services.items():
        assert service["build"] == ".", name
    assert (ROOT / "Dockerfile").is_file()
    # Nothing is pip-installed when a container starts.
    assert not any("_PIP_ADDITIONAL_REQUIREMENTS" in text for text in strings_in(compose))


def test_every_bind_mounted_host_path_exists_in_the_repository(compose, services):
    named = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/", "~")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in named, f"{name} uses undeclared volume {source}"


def test_the_project_folders_and_a_data_volume_are_mounted_where_the_package_looks(
    compose, airflow_services
):
    for name, service in airflow_services.items():
        mounts = dict(volume.split(":")[:2] for volume in service["volumes"])
        for source, target in PROJECT_MOUNTS.items():
            assert mounts.get(source) == target, f"{name}: {source} -> {target}"
        data = [source for source, target in mounts.items() if target == DATA_DIR]
        assert data and data[0] in compose["volumes"], f"{name}: named volume at {DATA_DIR}"
        env = service["environment"]
        assert env["NEXT_STEPS_DATA_DIR"] == DATA_DIR, name
        # Inside the image the package sits at /opt/airflow/plugins/next_steps/, so its
        # defaults point at /opt/airflow/{dbt_project,expectations}; the explicit settings
        # must agree with those mounts.
        assert env["NEXT_STEPS_DBT_PROJECT_DIR"] == PROJECT_MOUNTS["./dbt_project"]
        assert env["NEXT_STEPS_EXPECTATIONS_DIR"] == PROJECT_MOUNTS["./expectations"]


def test_the_next_steps_variables_it_sets_are_ones_the_package_reads(airflow_services):
    read: set[str] = set()

    class Recording(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    Settings.from_env(Recording())
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    set_here = set(re.findall(r"\b(NEXT_STEPS_[A-Z_]+)=", dockerfile))
    for service in airflow_services.values():
        set_here |= {name for name in service["environment"] if name.startswith("NEXT_STEPS_")}
    assert set_here, "no NEXT_STEPS_* setting found"
    assert set_here <= read, set_here - read


def test_the_mounted_dag_folder_defines_next_steps_nightly(airflow_services):
    mounts = dict(
        volume.split(":")[:2] for volume in airflow_services["airflow-scheduler"]["volumes"]
    )
    dags_folder = ROOT / next(s for s, t in mounts.items() if t == "/opt/airflow/dags")
    dag_ids = set()
    for path in dags_folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "dag_id"
                and isinstance(node.value, ast.Constant)
            ):
                dag_ids.add(node.value.value)
    assert "next_steps_nightly" in dag_ids


def test_the_dockerfile_builds_on_the_airflow_and_python_in_uv_lock():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert bases, "no FROM line"
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    airflow = locked_versions()["apache-airflow"]
    python = re.fullmatch(r"==(\d+\.\d+)\.\*", lock["requires-python"]).group(1)
    for base in bases:
        image, _, tag = base.partition(":")
        assert image == "apache/airflow", base
        assert tag == f"{airflow}-python{python}", f"{base}: uv.lock has {airflow}, {python}"


def test_the_dockerfile_installs_from_uv_lock_with_the_makefiles_uv():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    make_uv = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, flags=re.MULTILINE).group(1)
    assert re.search(rf"^ARG UV_VERSION={re.escape(make_uv)}$", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^COPY pyproject\.toml uv\.lock ", dockerfile, flags=re.MULTILINE)
    assert "uv export --frozen --no-dev --no-emit-project" in dockerfile
    assert "--require-hashes" in dockerfile
    assert "pip check" in dockerfile


def test_every_variable_the_compose_file_uses_is_defined_in_env_example(compose):
    missing = variables_used(compose) - set(env_example())
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_holds_placeholders_not_secrets():
    for name, value in env_example().items():
        if SECRET_NAME.search(name):
            assert value == "change-me", f"{name} in .env.example must be a placeholder"


def test_dot_env_is_ignored_by_git():
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".env" in [line.strip() for line in lines]


def test_the_compose_file_holds_no_secret_literals(compose, services):
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VARIABLE.fullmatch(str(value)), (
                    f"{name}: {key} must be ${{VAR:?...}} from .env, without a default"
                )
    for text in strings_in(compose):
        for url in re.findall(r"[a-z0-9+]+://\S+", text):
            password = urlsplit(url.replace("${", "{").replace("}", "")).password
            assert not password or re.fullmatch(r"\{[A-Za-z_]\w*:\?.*", password), url
        for password in re.findall(r"--password[= ]+\"?([^\s\"]+)", text):
            assert password.startswith("$"), f"literal --password {password}"


def test_airflow_reaches_the_api_server_it_is_meant_to(airflow_services, services):
    for name, service in airflow_services.items():
        env = service["environment"]
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false", name
        url = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert url.hostname == "airflow-apiserver", name
        assert url.path == "/execution/", name
        published = [port.split(":")[-1] for port in services[url.hostname]["ports"]]
        assert str(url.port) in published


def test_every_airflow_component_waits_for_the_database_and_the_init(services):
    assert services["airflow-init"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in AIRFLOW_DAEMONS:
        depends_on = services[name]["depends_on"]
        assert depends_on["postgres"] == {"condition": "service_healthy"}, name
        assert depends_on["airflow-init"] == {"condition": "service_completed_successfully"}, name


def test_every_long_running_service_has_a_health_check(services):
    for name in AIRFLOW_DAEMONS | {"postgres", "redis"}:
        assert services[name].get("healthcheck", {}).get("test"), name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert (
        "http://localhost:8080/api/v2/version"
        in (services["airflow-apiserver"]["healthcheck"]["test"])
    )
    scheduler = services["airflow-scheduler"]
    assert "http://localhost:8974/health" in scheduler["healthcheck"]["test"]
    assert scheduler["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"


def test_the_init_migrates_the_database_and_creates_the_admin(airflow_command_lines):
    assert ["db", "migrate"] in airflow_command_lines
    assert any(argv[:2] == ["users", "create"] for argv in airflow_command_lines)


def test_the_init_and_make_create_the_pool_the_warehouse_tasks_use(airflow_command_lines):
    """A task in a pool that does not exist is never scheduled."""
    expected = ["pools", "set", WAREHOUSE_POOL, str(WAREHOUSE_POOL_SLOTS)]
    assert [argv[:4] for argv in airflow_command_lines if argv[0] == "pools"] == [expected]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f"airflow pools set {WAREHOUSE_POOL} {WAREHOUSE_POOL_SLOTS} " in makefile


@pytest.mark.slow
def test_the_services_run_real_airflow_3_commands(airflow_cli, airflow_command_lines):
    groups = {argv[0] for argv in airflow_command_lines}
    for expected in ("api-server", "scheduler", "dag-processor", "triggerer", "celery", "users"):
        assert expected in groups
    for argv in airflow_command_lines:
        assert airflow_cli["results"][" ".join(argv)] == "", argv


def test_the_image_leaves_the_sample_data_out_and_no_night_needs_it():
    """The production image need not ship the sample generator: the build context
    leaves it out, and no module a night or a DAG runs imports it (only the CLI's
    `generate`, which says it is missing instead)."""
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "plugins/next_steps/sample" in ignored
    importers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("plugins", "dags")
        for path in (ROOT / folder).rglob("*.py")
        if "sample" not in path.relative_to(ROOT).parts
        and path.name != "cli.py"  # its `generate` says the generator is missing
        and re.search(r"^\s*(from|import) next_steps\.sample\b", path.read_text(), re.M)
    ]
    assert importers == []
