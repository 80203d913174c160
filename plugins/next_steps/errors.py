"""Errors that fail a night on purpose: bad input, not a bug or a flaky resource.

The DAG turns them into failures that are not retried (retrying cannot fix an export).
"""


class NightFailed(Exception):
    """A night cannot go on; the message says what and where."""


class ExportNotReady(NightFailed):
    """The export folder for the night is missing or not complete (no ``_SUCCESS``)."""


class ExportFileError(NightFailed):
    """A file of the export is missing, unreadable or has the wrong columns."""


class DbtBuildFailed(NightFailed):
    """``dbt build`` had models or tests that errored or failed."""


class ChecksDisagree(NightFailed):
    """Great Expectations and the SQL translation of its suite judged a row differently:
    a bug in ``next_steps.ingest.row_rules`` (a retry gives the same answer), never the export's."""


class WarehouseBusy(Exception):
    """Another night holds the warehouse (it is between loading and publishing): not a
    failure, a lock.  ``wait_for_warehouse`` waits for it; anywhere else it is retried."""


class WarehouseLeaseLost(NightFailed):
    """The working copy belongs to another night now: this night must start again from
    ``load_warehouse``."""
