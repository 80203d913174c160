"""Stage 3 of a night, publish: the outreach files, the night's report, delivery to
marketing's destinations, and ``make docs``."""
