"""Next steps: turn a direct-selling company's nightly exports into next-step lists.

The package holds the pipeline's logic; the Airflow DAG in ``dags/`` only wires it:

- :mod:`next_steps.config`: where inputs and outputs live (environment variables).
- :mod:`next_steps.contract`: the export contract (files, columns, types).
- :mod:`next_steps.exports`: find a night's export and read its files row by row.
- :mod:`next_steps.validation`: Great Expectations suites run on each file.
- :mod:`next_steps.warehouse`: load a validated night into the DuckDB warehouse.
- :mod:`next_steps.dbt`: run ``dbt build`` for a night through dbt's programmatic runner.
- :mod:`next_steps.outreach`: write the night's campaign files and publish them whole.
- :mod:`next_steps.private_files`: files with personal data, owner and group only.
- :mod:`next_steps.generator`: a realistic sample export for demos and tests.

Modules import their heavy dependencies (pandas, DuckDB, Great Expectations, dbt) inside
functions so that importing the package, and so parsing the DAG, stays cheap.
"""
