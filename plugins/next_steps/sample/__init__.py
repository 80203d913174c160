"""Sample data for demos, tests and the bench: the export generator and the simulated
responses to campaigns.  Not used by a production night."""
