"""The Airflow Assets the nightly DAG publishes, so that downstream DAGs run on data.

- ``MARTS``: the warehouse's marts, updated when ``publish_night`` swaps a built night
  in (event extra: ``night``).
- ``OUTREACH_FILES``: a night's outreach folder, published by ``publish_night`` with
  the marts (event extra: ``night``, ``folder``, ``files``, ``rows``, ``republished``).  ``next_steps_delivery`` runs
  on it.

Only DAG files import this module (it imports the Airflow SDK).
"""

from __future__ import annotations

from airflow.sdk import Asset

MARTS = Asset(name="next_steps_marts", uri="next-steps://warehouse/marts")
OUTREACH_FILES = Asset(name="next_steps_outreach_files", uri="next-steps://outreach")
