"""A night's purchase-model fits, as the rows of ``marts.purchase_model_fits``.

The dbt Python model of that mart reads the night's data per account
(``int_transactions_summarised_to_accounts``) and the seed ``purchase_model_settings``,
and returns :func:`fit_rows`. Times go to the models in weeks, as in the papers.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from next_steps.predict import purchase_models as pm

DAYS_PER_WEEK = 7.0
FIT_COLUMNS = (
    "as_of_date",
    "model",
    "parameter",
    "value",
    "time_unit",
    "customers",
    "log_likelihood",
    "converged",
    "fit_note",
)
#: the unit of each parameter that has one: BG/NBD's alpha is a scale of time
TIME_UNITS = {("bg_nbd", "alpha"): "week"}


#: the note of a night whose fits were switched off (``NEXT_STEPS_PURCHASE_MODELS``)
SWITCHED_OFF = "switched off (NEXT_STEPS_PURCHASE_MODELS=off, dbt var purchase_models)"


def fit_night(
    inputs: pd.DataFrame, settings: pd.Series, enabled: bool = True
) -> tuple[pm.Fit, pm.Fit]:
    """Both models fitted on one night's accounts (one row each: repeat_transactions,
    recency_days, tenure_days, repeat_transaction_value_mean); none when ``enabled`` is
    false, with the note :data:`SWITCHED_OFF`."""
    x = inputs["repeat_transactions"].to_numpy(dtype=float)
    if not enabled:
        return (
            pm.Fit("bg_nbd", customers=len(x), note=SWITCHED_OFF),
            pm.Fit("gamma_gamma", customers=int(np.count_nonzero(x > 0)), note=SWITCHED_OFF),
        )
    t_x = inputs["recency_days"].to_numpy(dtype=float) / DAYS_PER_WEEK
    T = inputs["tenure_days"].to_numpy(dtype=float) / DAYS_PER_WEEK
    m = pd.to_numeric(inputs["repeat_transaction_value_mean"]).to_numpy(dtype=float)
    bg_nbd = _fit_or_note(
        "bg_nbd",
        len(x),
        lambda: pm.fit_bg_nbd(
            x,
            t_x,
            T,
            min_customers=int(settings["min_customers"]),
            min_repeat_buyers=int(settings["min_repeat_buyers"]),
        ),
    )
    gamma_gamma = _fit_or_note(
        "gamma_gamma",
        int(np.count_nonzero(x > 0)),
        lambda: pm.fit_gamma_gamma(x, m, min_customers=int(settings["min_repeat_buyers"])),
    )
    return bg_nbd, gamma_gamma


def _fit_or_note(model: str, customers: int, fit) -> pm.Fit:
    """The fit, or, when fitting raises (the optimiser on data it cannot handle), no
    estimates and the error as the note: the night goes on with today's rules."""
    try:
        return fit()
    except (ArithmeticError, ValueError, FloatingPointError) as error:
        return pm.Fit(model, customers=customers, note=f"the fit failed: {error}")


def fit_rows(night: date, fits: tuple[pm.Fit, ...]) -> pd.DataFrame:
    """One row per model parameter; a model that was not fitted keeps its rows, with no
    value and the reason in ``fit_note``."""
    names = {"bg_nbd": pm.BG_NBD_PARAMETERS, "gamma_gamma": pm.GAMMA_GAMMA_PARAMETERS}
    night = pd.Timestamp(night).date()
    rows = [
        {
            "as_of_date": night,
            "model": fit.model,
            "parameter": parameter,
            "value": fit.params.get(parameter, np.nan),
            "time_unit": TIME_UNITS.get((fit.model, parameter)),
            "customers": fit.customers,
            "log_likelihood": fit.log_likelihood if fit.log_likelihood is not None else np.nan,
            "converged": fit.converged,
            "fit_note": fit.note,
        }
        for fit in fits
        for parameter in names[fit.model]
    ]
    frame = pd.DataFrame(rows, columns=list(FIT_COLUMNS))
    return frame.astype(
        {
            "model": "string",
            "parameter": "string",
            "value": "float64",
            "time_unit": "string",
            "customers": "int64",
            "log_likelihood": "float64",
            "converged": "bool",
            "fit_note": "string",
        }
    )
