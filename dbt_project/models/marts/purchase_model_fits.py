"""marts.purchase_model_fits: the night's BG/NBD and Gamma-Gamma fits, one row per model
parameter (next_steps.predict.night). Configured like every mart (dbt_project.yml):
incremental on as_of_date, re-running night D replaces the rows of D."""

from next_steps.predict.night import fit_night, fit_rows


def model(dbt, session):
    night = dbt.ref("int_night_built").df()["as_of_date"].iloc[0]
    inputs = dbt.ref("int_transactions_summarised_to_accounts").df()
    settings = dbt.ref("purchase_model_settings").df().iloc[0]
    return fit_rows(night, fit_night(inputs, settings))
