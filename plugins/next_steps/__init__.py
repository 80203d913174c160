"""Next steps: turn a direct-selling company's nightly exports into next-step lists.

The package holds the pipeline's logic; the Airflow DAGs in ``dags/`` only wire it. What
each module does is listed once, in the README's "Project layout" table.

Modules import their heavy dependencies (pandas, DuckDB, Great Expectations, dbt) inside
functions so that importing the package, and so parsing the DAG, stays cheap.
"""
