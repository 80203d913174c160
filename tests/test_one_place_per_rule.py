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


def _dbt_contract_values() -> dict[str, list[str]]:
    text = (DBT_PROJECT / "macros" / "export_contract_values.sql").read_text()
    return {
        key: re.findall(r"'([^']*)'", values)
        for key, values in re.findall(r"'([a-z_]+\.[a-z_]+)': \[([^\]]*)\]", text)
    }


def test_the_dbt_copy_of_the_export_enums_is_the_suites():
    """dbt cannot read the suites, so its one copy of the enums (the macro behind the
    generic test `in_export_contract`) must say what the suites say, in their order."""
    from next_steps.ingest.contract import EXPORT_FILES, load_suite_json

    suites = {
        f"{spec.name}.{expectation['kwargs']['column']}": expectation["kwargs"]["value_set"]
        for spec in EXPORT_FILES
        for expectation in load_suite_json(ROOT / "expectations", spec.suite_name)["expectations"]
        if expectation["type"] == "expect_column_values_to_be_in_set"
        and expectation["kwargs"]["value_set"] != ["true", "false"]
    }
    assert _dbt_contract_values() == suites


def test_no_yml_lists_an_export_enum():
    enums = [set(values) for values in _dbt_contract_values().values()]
    copies = [
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for path in [*_dbt_sources(), *sorted((DBT_PROJECT / "seeds").glob("*.yml"))]
        if path.suffix == ".yml"
        for match in re.finditer(r"values: \[([^\]]*)\]", path.read_text())
        if set(re.findall(r"'([^']*)'", match.group(1))) in enums
    ]
    assert copies == [], "export enums listed again (use in_export_contract): " + "; ".join(copies)


def test_the_readme_configuration_table_is_what_settings_does(tmp_path):
    """Each `NEXT_STEPS_*` variable config.py reads has a row in the README's table, and
    the row's default is the one `Settings.from_env` applies (paths under `<data>` too)."""
    from next_steps.config import PROJECT_ROOT, Settings

    rows = dict(
        re.findall(
            r"^\| `(NEXT_STEPS_[A-Z_]+)` \| ([^|]*) \|", (ROOT / "README.md").read_text(), re.M
        )
    )
    read = set(
        re.findall(
            r'"(NEXT_STEPS_[A-Z_]+)"', (PROJECT_ROOT / "plugins/next_steps/config.py").read_text()
        )
    )
    assert sorted(read - rows.keys()) == [], "settings the README's table leaves out"
    assert sorted(rows.keys() - read) == [], "rows of the README's table config.py never reads"
    defaults = Settings.from_env({})
    under_data = Settings.from_env({"NEXT_STEPS_DATA_DIR": str(tmp_path)})
    for variable, cell in rows.items():
        name = variable.removeprefix("NEXT_STEPS_").lower()
        written = re.match(r"`([^`]*)`|\(none\)", cell.strip())
        assert written, f"{variable}: default {cell!r} is neither `value` nor (none)"
        text = written.group(1) or ""
        if text.startswith("<data>/"):
            expected = str(tmp_path / text.removeprefix("<data>/"))
            assert str(getattr(under_data, name)) == expected, variable
        elif text.startswith("./") or text.startswith("<project>/"):
            expected = PROJECT_ROOT / text.split("/", 1)[1]
            assert getattr(defaults, name) == expected, variable
        elif isinstance(getattr(defaults, name), bool):
            assert getattr(defaults, name) == {"on": True, "off": False}[text], variable
        elif isinstance(getattr(defaults, name), float | int):
            assert getattr(defaults, name) == float(text), variable
        else:
            assert getattr(defaults, name) == text, variable


def test_the_readme_says_where_every_seed_and_var_lives():
    """One step from the README to any rule: every seed is in its "where each rule
    lives" table, and dbt_project/README.md's var table gives each var its default from
    dbt_project.yml (and names no other)."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("Where each rule lives") : readme.index("| path | what |")]
    seeds = sorted(path.stem for path in (DBT_PROJECT / "seeds").glob("*.csv"))
    assert [name for name in seeds if f"`{name}`" not in table] == []
    project_vars = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    dbt_readme = (DBT_PROJECT / "README.md").read_text()
    var_table = dbt_readme[dbt_readme.index("| var | default | meaning |") :].split("\n\n")[0]
    documented = {
        name: cell.strip()
        for name, cell in re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", var_table, re.M)
        if name != "as_of_date"  # no default on purpose: the night must be named
    }
    assert documented.keys() == project_vars.keys()
    for name, value in project_vars.items():
        assert yaml.safe_load(documented[name].strip("`")) == value, name
