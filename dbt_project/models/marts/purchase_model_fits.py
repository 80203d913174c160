"""marts.purchase_model_fits: the night's BG/NBD and Gamma-Gamma fits, one row per model
parameter (next_steps.predict.night). Incremental like every mart: re-running night D
replaces the rows of D and keeps the other nights (dbt_project.yml gives the strategy and
the pre-hook; a Python model must name its materialization itself, dbt otherwise makes it
a table that keeps only the last night)."""

from next_steps.predict.night import fit_night, fit_rows


def model(dbt, session):
    dbt.config(materialized="incremental")
    night = dbt.ref("int_night_built").df()["as_of_date"].iloc[0]
    inputs = dbt.ref("int_transactions_summarised_to_accounts").df()
    settings = dbt.ref("purchase_model_settings").df().iloc[0]
    # the dbt var purchase_models, which _marts__models.yml puts in this model's config
    enabled = str(dbt.config.get("purchase_models")).strip().lower() == "true"
    return fit_rows(night, fit_night(inputs, settings, enabled=enabled))
