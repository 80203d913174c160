"""Stage 1 of a night, ingest: the export contract, finding and reading the files, the
suites as SQL, validation, and loading the rows (or quarantining them) into ``raw``."""
