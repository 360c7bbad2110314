"""Scoring open leads: a model trained each night on the leads whose outcome is known."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg

log = logging.getLogger(__name__)

CATEGORICAL = ["first_touch_channel", "last_touch_channel", "industry"]
NUMERIC = ["touches_before_lead", "intent_pageviews", "log_employees"]
MIN_LABELLED_LEADS = 30


@dataclass(frozen=True)
class ScoreStats:
    scored: int
    training_rows: int
    model: str  # "logistic_regression" or "base_rate" when too little is known yet


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["log_employees"] = np.log10(frame["employee_count"].fillna(1).clip(lower=1))
    for column in CATEGORICAL:
        frame[column] = frame[column].fillna("unknown")
    return frame[CATEGORICAL + NUMERIC]


def predict_won_probability(
    labelled: pd.DataFrame, open_leads: pd.DataFrame
) -> tuple[np.ndarray, str]:
    """Probability that each open lead becomes closed won, learned from the labelled leads.

    Args:
        labelled: lead_features rows with outcome won or lost.
        open_leads: lead_features rows to score.
    """
    won = (labelled["outcome"] == "won").to_numpy()
    if len(labelled) < MIN_LABELLED_LEADS or won.all() or not won.any():
        base_rate = won.mean() if len(won) else 0.0
        log.warning("only %d labelled leads: scoring with the base rate %.2f", len(won), base_rate)
        return np.full(len(open_leads), base_rate), "base_rate"
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    model = make_pipeline(
        ColumnTransformer(
            [
                ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                ("numbers", StandardScaler(), NUMERIC),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    model.fit(_features(labelled), won)
    return model.predict_proba(_features(open_leads))[:, 1], "logistic_regression"


def score_open_leads(conn: psycopg.Connection, run_id: str, scored_at: datetime) -> ScoreStats:
    """Score every open lead 0-100 into ops.lead_scores (replacing the previous night's scores)."""
    with conn.cursor() as cur:
        cur.execute("select * from marts.lead_features")
        columns = [d.name for d in cur.description]
        frame = pd.DataFrame(cur.fetchall(), columns=columns)
    frame["employee_count"] = pd.to_numeric(frame["employee_count"], errors="coerce")
    labelled = frame[frame["outcome"].isin(["won", "lost"])]
    open_leads = frame[frame["is_open_lead"]]
    probabilities, model = predict_won_probability(labelled, open_leads)
    scores = np.clip(np.rint(probabilities * 100), 0, 100).astype(int)
    with conn.transaction():
        conn.execute("delete from ops.lead_scores")
        with conn.cursor().copy(
            "copy ops.lead_scores (contact_id, score, scored_at, run_id) from stdin"
        ) as copy:
            for contact_id, score in zip(open_leads["contact_id"], scores, strict=True):
                copy.write_row((contact_id, int(score), scored_at, run_id))
    log.info(
        "scored %d open leads with %s trained on %d labelled leads",
        len(open_leads),
        model,
        len(labelled),
    )
    return ScoreStats(scored=len(open_leads), training_rows=len(labelled), model=model)
