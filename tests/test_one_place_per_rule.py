"""Each rule and default is written in one place (issue 14); these tests say where, and
fail when a second copy appears."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from seeds import seed

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
VAR_WITH_DEFAULT = re.compile(r"var\(\s*'([a-z_]+)'\s*,")


def _dbt_sources() -> list[Path]:
    return sorted(
        path
        for folder in ("models", "macros", "tests")
        for path in (DBT_PROJECT / folder).rglob("*")
        if path.suffix in (".sql", ".yml", ".md")
    )


def test_dbt_var_defaults_are_only_in_dbt_project_yml():
    project_vars = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    copies = [
        f"{path.relative_to(ROOT)}: var('{name}', ...)"
        for path in _dbt_sources()
        for name in VAR_WITH_DEFAULT.findall(path.read_text())
        if name in project_vars
    ]
    assert copies == [], "a second default for a dbt var: " + "; ".join(copies)
    # as_of_date has no default on purpose: the night must be named
    assert "as_of_date" not in project_vars


def test_the_readme_layout_table_names_every_module_of_the_package_once():
    """A newcomer finds a module in one step: the README's layout table has a row per
    folder of the package, and names each of its modules there, once."""
    package = ROOT / "plugins" / "next_steps"
    rows = re.findall(
        r"^\| `plugins/next_steps/([a-z_/]*)` \| (.*) \|$", (ROOT / "README.md").read_text(), re.M
    )
    named = [
        f"{folder}{module}"
        for folder, text in rows
        for module in re.findall(r"(?:^|, |: |\)\s)`([a-z_]+)` \(", text)
    ]
    modules = {
        path.relative_to(package).with_suffix("").as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    }
    folders = {
        path.parent.relative_to(package).as_posix() for path in package.glob("*/__init__.py")
    }
    assert sorted(modules - set(named)) == [], "modules the layout table does not name"
    assert sorted(set(named) - modules) == [], "the layout table names modules that do not exist"
    assert sorted({name for name in named if named.count(name) > 1}) == [], "named twice"
    assert sorted({f"{f}/" for f in folders} - {folder for folder, _ in rows}) == []


def test_segment_names_are_checked_against_the_seed_not_a_copy():
    segments = {band["segment"] for band in seed("segment_bands")}
    copies = []
    for path in _dbt_sources():
        if path.suffix != ".yml":
            continue
        for match in re.finditer(r"values: \[([^\]]*)\]", path.read_text()):
            listed = set(re.findall(r"'([^']*)'", match.group(1)))
            if listed & segments:
                copies.append(f"{path.relative_to(ROOT)}: {sorted(listed & segments)}")
    assert copies == [], "segment names copied from seeds/segment_bands.csv: " + "; ".join(copies)


def test_no_model_names_a_segment():
    """The SQL picks a segment by the seed's `purchase_history` and bands; a segment name
    written as a literal in a model would be a second copy of the seed."""
    segments = {band["segment"] for band in seed("segment_bands")}
    literals = [
        f"{path.relative_to(ROOT)}: '{literal}'"
        for path in sorted((DBT_PROJECT / "models").rglob("*.sql"))
        for literal in re.findall(r"'([^']*)'", path.read_text())
        if literal in segments
    ]
    assert literals == [], "segment names written in models: " + "; ".join(literals)
