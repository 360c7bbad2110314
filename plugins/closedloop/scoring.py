"""Scoring open leads: a model trained each night on the leads whose outcome is known."""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg

log = logging.getLogger(__name__)

CATEGORICAL = ["first_touch_channel", "last_touch_channel", "industry"]
NUMERIC = ["touches_before_lead", "intent_pageviews", "log_employees"]
# Outcomes the score learns from: a lead with no deal long after its creation (aged_out, see the
# dbt var lead_aging_days) is a lost lead too.
LABELLED_OUTCOMES = ("won", "lost", "aged_out")
MIN_LABELLED_LEADS = 30
# A new model whose held-out AUC is this much below the last good one's is not used.
AUC_TOLERANCE = 0.05


# Score thresholds of the tiers sales see (score >= threshold), best first.
TIERS = ((50, "A"), (30, "B"), (15, "C"), (0, "D"))


@dataclass(frozen=True)
class ScoreStats:
    scored: int
    training_rows: int
    model: str  # "logistic_regression" or "base_rate" when too little is known yet
    holdout_auc: float | None
    calibration_error: float | None
    decision: str


@dataclass(frozen=True)
class Scored:
    probabilities: np.ndarray
    reasons: list[str]
    model: str
    holdout_auc: float | None = None
    calibration_error: float | None = None
    decision: str = "new model"
    candidate: Trained | None = None


def tier(score: int) -> str:
    return next(name for threshold, name in TIERS if score >= threshold)


def _features(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["log_employees"] = np.log10(frame["employee_count"].fillna(1).clip(lower=1))
    for column in CATEGORICAL:
        frame[column] = frame[column].fillna("unknown")
    return frame[CATEGORICAL + NUMERIC]


def _pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return make_pipeline(
        ColumnTransformer(
            [
                (
                    "categories",
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                    CATEGORICAL,
                ),
                ("numbers", StandardScaler(), NUMERIC),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )


def expected_calibration_error(won: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean gap between predicted and observed win rates over equal-width probability bins,
    weighted by how many leads fall in each bin."""
    edges = np.minimum((probabilities * bins).astype(int), bins - 1)
    gap = 0.0
    for b in np.unique(edges):
        members = edges == b
        gap += members.mean() * abs(probabilities[members].mean() - won[members].mean())
    return float(gap)


def holdout_split(features: pd.DataFrame, won: np.ndarray):
    """The fixed 75/25 split of labelled leads the metrics are measured on (stratified)."""
    from sklearn.model_selection import train_test_split

    return train_test_split(features, won, test_size=0.25, stratify=won, random_state=0)


def holdout_predictions(labelled: pd.DataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The held-out leads' rows, outcomes and predicted probabilities of a model fitted on the
    rest of the labelled leads."""
    won = (labelled["outcome"] == "won").to_numpy()
    train_x, test_x, train_y, test_y = holdout_split(_features(labelled), won)
    predicted = _pipeline().fit(train_x, train_y).predict_proba(test_x)[:, 1]
    return test_x.index, test_y, predicted


def _holdout_metrics(labelled: pd.DataFrame) -> tuple[float | None, float | None]:
    """AUC and calibration error of a model fitted on 75% of the labelled leads, on the rest."""
    from sklearn.metrics import roc_auc_score

    won = (labelled["outcome"] == "won").to_numpy()
    if min(won.sum(), (~won).sum()) < 4:
        return None, None
    _, test_y, predicted = holdout_predictions(labelled)
    return float(roc_auc_score(test_y, predicted)), expected_calibration_error(test_y, predicted)


def _phrase(feature: str, row: pd.Series) -> str:
    group, _, name = feature.partition("__")
    if group == "categories":
        column = next(c for c in CATEGORICAL if name.startswith(c + "_"))
        value = name[len(column) + 1 :].replace("_", " ")
        return {
            "first_touch_channel": f"{value} first touch",
            "last_touch_channel": f"{value} last touch before signing up",
            "industry": f"{value} industry",
        }[column]
    if name == "intent_pageviews":
        return f"visited pricing or demo {int(row['intent_pageviews'])} times"
    if name == "touches_before_lead":
        return f"{int(row['touches_before_lead'])} visits before becoming a lead"
    return f"company of {int(round(10 ** row['log_employees'])):,} employees"


def _reasons(model, features: pd.DataFrame, top: int = 3) -> list[str]:
    """The features that raise each lead's score most, in plain words."""
    transform, regression = model[0], model[-1]
    contributions = transform.transform(features) * regression.coef_[0]
    names = transform.get_feature_names_out()
    reasons = []
    for i, (_, row) in enumerate(features.iterrows()):
        strongest = np.argsort(-contributions[i])[:top]
        reasons.append(
            "; ".join(_phrase(names[j], row) for j in strongest if contributions[i][j] > 0)
            or "no strong signal yet"
        )
    return reasons


@dataclass(frozen=True)
class Trained:
    model: Any  # a fitted scikit-learn pipeline
    holdout_auc: float | None
    calibration_error: float | None


def train(labelled: pd.DataFrame) -> Trained | None:
    """Fit the score on leads whose outcome is known; None when there are too few of them."""
    won = (labelled["outcome"] == "won").to_numpy()
    if len(labelled) < MIN_LABELLED_LEADS or min(won.sum(), (~won).sum()) < 4:
        return None
    auc, calibration = _holdout_metrics(labelled)
    return Trained(_pipeline().fit(_features(labelled), won), auc, calibration)


def choose(candidate: Trained | None, last_good: Trained | None) -> tuple[Trained | None, str]:
    """Which model scores tonight, and why: the new one unless it is missing or clearly worse."""
    if candidate is None:
        if last_good is None:
            return None, "too few labelled leads and no earlier model: base rate"
        return last_good, "too few labelled leads: the last good model keeps scoring"
    if (
        last_good is not None
        and last_good.holdout_auc is not None
        and (candidate.holdout_auc or 0) < last_good.holdout_auc - AUC_TOLERANCE
    ):
        return last_good, (
            f"new model is clearly worse (held-out AUC {candidate.holdout_auc:.3f} "
            f"against {last_good.holdout_auc:.3f}): the last good model keeps "
            "scoring"
        )
    return candidate, "new model"


def predict_won_probability(
    labelled: pd.DataFrame, open_leads: pd.DataFrame, last_good: Trained | None = None
) -> Scored:
    """Probability that each open lead becomes closed won, learned from the labelled leads.

    Args:
        labelled: lead_features rows with a known outcome (LABELLED_OUTCOMES).
        open_leads: lead_features rows to score.
        last_good: the last accepted model, kept when tonight's is missing or clearly worse.
    """
    candidate = train(labelled)
    chosen, decision = choose(candidate, last_good)
    if chosen is None:
        won = (labelled["outcome"] == "won").to_numpy()
        base_rate = won.mean() if len(won) else 0.0
        log.warning("only %d labelled leads: scoring with the base rate %.2f", len(won), base_rate)
        return Scored(
            np.full(len(open_leads), base_rate),
            ["too few closed deals yet to tell leads apart"] * len(open_leads),
            "base_rate",
            decision=decision,
            candidate=candidate,
        )
    if chosen is not candidate:
        log.warning(decision)
    open_features = _features(open_leads)
    return Scored(
        chosen.model.predict_proba(open_features)[:, 1],
        _reasons(chosen.model, open_features),
        "logistic_regression",
        chosen.holdout_auc,
        chosen.calibration_error,
        decision,
        candidate,
    )


def _last_good(conn: psycopg.Connection) -> Trained | None:
    row = conn.execute(
        """select model, holdout_auc, calibration_error from ops.score_model_runs
           where accepted order by trained_at desc limit 1"""
    ).fetchone()
    # Only models this pipeline stored itself are ever unpickled.
    return Trained(pickle.loads(row[0]), row[1], row[2]) if row else None


def load_lead_features(conn: psycopg.Connection) -> pd.DataFrame:
    """marts.lead_features as a frame, in contact id order."""
    with conn.cursor() as cur:
        cur.execute("select * from marts.lead_features order by contact_id")
        frame = pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])
    frame["employee_count"] = pd.to_numeric(frame["employee_count"], errors="coerce")
    return frame


def labelled_leads(frame: pd.DataFrame) -> pd.DataFrame:
    """The leads whose outcome is known: what the score learns from."""
    return frame[frame["outcome"].isin(LABELLED_OUTCOMES)]


def score_open_leads(conn: psycopg.Connection, run_id: str, scored_at: datetime) -> ScoreStats:
    """Score every open lead 0-100 with a tier and reasons into ops.lead_scores (replacing the
    previous night's), and record the model's held-out metrics in ops.score_model_runs."""
    frame = load_lead_features(conn)
    labelled = labelled_leads(frame)
    open_leads = frame[frame["is_open_lead"]]
    scored = predict_won_probability(labelled, open_leads, _last_good(conn))
    scores = np.clip(np.rint(scored.probabilities * 100), 0, 100).astype(int)
    accepted = scored.decision == "new model"
    with conn.transaction():
        conn.execute("delete from ops.lead_scores")
        with conn.cursor().copy(
            "copy ops.lead_scores (contact_id, score, tier, reasons, scored_at, run_id) from stdin"
        ) as copy:
            for contact_id, score, reasons in zip(
                open_leads["contact_id"], scores, scored.reasons, strict=True
            ):
                copy.write_row(
                    (contact_id, int(score), tier(int(score)), reasons, scored_at, run_id)
                )
        candidate = scored.candidate
        conn.execute(
            """insert into ops.score_model_runs (run_id, training_rows, holdout_auc,
                   calibration_error, accepted, decision, model)
               values (%s, %s, %s, %s, %s, %s, %s)""",
            (
                run_id,
                len(labelled),
                candidate and candidate.holdout_auc,
                candidate and candidate.calibration_error,
                accepted,
                scored.decision,
                pickle.dumps(candidate.model) if accepted else None,
            ),
        )
    log.info(
        "scored %d open leads (%s); %d labelled leads, held-out AUC %s, calibration error %s",
        len(open_leads),
        scored.decision,
        len(labelled),
        scored.holdout_auc,
        scored.calibration_error,
    )
    return ScoreStats(
        len(open_leads),
        len(labelled),
        scored.model,
        scored.holdout_auc,
        scored.calibration_error,
        scored.decision,
    )
