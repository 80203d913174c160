"""Purchase models that predict what each customer will do next (issue 16)."""
