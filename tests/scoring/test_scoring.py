"""The lead score learns from known outcomes and falls back to the base rate when it cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from closedloop.scoring import (
    _features,
    expected_calibration_error,
    predict_won_probability,
    tier,
    train,
)


def leads(n: int, seed: int, won_rule=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "contact_id": [str(i) for i in range(n)],
            "first_touch_channel": rng.choice(["paid_search", "direct", "referral"], n),
            "last_touch_channel": rng.choice(["paid_search", "direct"], n),
            "industry": rng.choice(["software", "retail"], n),
            "touches_before_lead": rng.integers(0, 6, n),
            "intent_pageviews": rng.integers(0, 8, n),
            "employee_count": rng.integers(5, 5000, n),
        }
    )
    if won_rule is not None:
        frame["outcome"] = np.where(won_rule(frame, rng), "won", "lost")
    return frame


def _intent_wins(frame, rng):
    """The toy world's truth: pricing and demo views drive wins, nothing else does."""
    return rng.random(len(frame)) < 1 / (1 + np.exp(-(frame["intent_pageviews"] - 4)))


def _coin_flips(frame, rng):
    return rng.random(len(frame)) < 0.5


def test_the_score_ranks_leads_by_what_made_past_leads_win():
    labelled = leads(600, seed=1, won_rule=_intent_wins)
    open_leads = leads(200, seed=2)
    scored = predict_won_probability(labelled, open_leads)
    assert scored.model == "logistic_regression"
    by_intent = pd.Series(scored.probabilities).groupby(open_leads["intent_pageviews"]).mean()
    assert by_intent.is_monotonic_increasing
    assert by_intent.iloc[-1] - by_intent.iloc[0] > 0.5


def test_too_few_known_outcomes_score_every_lead_at_the_base_rate():
    labelled = leads(10, seed=3, won_rule=lambda frame, rng: np.arange(len(frame)) < 3)
    scored = predict_won_probability(labelled, leads(7, seed=4))
    assert scored.model == "base_rate"
    assert np.allclose(scored.probabilities, 0.3)
    assert scored.holdout_auc is None


def test_reasons_name_what_drives_the_score_and_metrics_come_from_held_out_leads():
    labelled = leads(600, seed=5, won_rule=_intent_wins)
    open_leads = leads(50, seed=6)
    scored = predict_won_probability(labelled, open_leads)
    keen = open_leads["intent_pageviews"].to_numpy() >= 6
    assert all(r.startswith("visited pricing or demo") for r in np.array(scored.reasons)[keen])
    assert all(
        f"{n} times" in r
        for n, r in zip(
            open_leads["intent_pageviews"][keen], np.array(scored.reasons)[keen], strict=True
        )
    )
    assert 0.75 < scored.holdout_auc <= 1
    assert 0 <= scored.calibration_error < 0.15


def test_tiers_follow_the_score():
    assert [tier(s) for s in (100, 50, 49, 30, 29, 15, 14, 0)] == list("AABBCCDD")


def test_calibration_error_of_a_perfectly_calibrated_score_is_zero():
    probabilities = np.array([0.25] * 4 + [0.75] * 4)
    won = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=bool)
    assert expected_calibration_error(won, probabilities) == 0
    assert expected_calibration_error(~won, probabilities) == 0.5


def test_the_last_good_model_keeps_scoring_when_the_new_one_is_clearly_worse():
    good = train(leads(600, seed=7, won_rule=_intent_wins))
    open_leads = leads(40, seed=8)
    scored = predict_won_probability(leads(600, seed=9, won_rule=_coin_flips), open_leads, good)
    assert "clearly worse" in scored.decision
    assert np.allclose(scored.probabilities, good.model.predict_proba(_features(open_leads))[:, 1])
    assert scored.candidate.holdout_auc < good.holdout_auc - 0.05


def test_the_last_good_model_keeps_scoring_when_too_little_is_known():
    good = train(leads(600, seed=7, won_rule=_intent_wins))
    scored = predict_won_probability(
        leads(10, seed=3, won_rule=_intent_wins), leads(5, seed=4), good
    )
    assert scored.decision.startswith("too few labelled leads: the last good model")
    assert scored.model == "logistic_regression"


def test_a_stored_model_is_reloaded_the_next_night(fresh_database):
    from datetime import UTC, datetime

    from closedloop.scoring import score_open_leads
    from closedloop.warehouse import connect, ensure_tables

    def publish(conn, frame):
        conn.execute("drop table if exists marts.lead_features")
        conn.execute("""create table marts.lead_features (contact_id text, lead_created_at
            timestamptz, first_touch_channel text, last_touch_channel text,
            touches_before_lead integer, intent_pageviews integer, employee_count integer,
            industry text, outcome text, is_open_lead boolean)""")
        with conn.cursor().copy(
            "copy marts.lead_features (contact_id, first_touch_channel, last_touch_channel, "
            "touches_before_lead, intent_pageviews, employee_count, industry, outcome, "
            "is_open_lead) from stdin"
        ) as copy:
            for row in frame.itertuples():
                copy.write_row(
                    (
                        row.contact_id,
                        row.first_touch_channel,
                        row.last_touch_channel,
                        int(row.touches_before_lead),
                        int(row.intent_pageviews),
                        int(row.employee_count),
                        row.industry,
                        row.outcome,
                        row.outcome == "open",
                    )
                )

    def night(rule, seed):
        labelled = leads(600, seed=seed, won_rule=rule)
        scoring = leads(30, seed=99).assign(outcome="open")
        scoring["contact_id"] = "open-" + scoring["contact_id"]
        return pd.concat([labelled, scoring])

    with connect(fresh_database("score")) as conn:
        ensure_tables(conn)
        conn.execute("create schema marts")
        publish(conn, night(_intent_wins, 11))
        first = score_open_leads(conn, "night-1", datetime(2026, 6, 1, tzinfo=UTC))
        scores_1 = conn.execute(
            "select contact_id, score from ops.lead_scores order by 1"
        ).fetchall()
        publish(conn, night(_coin_flips, 12))
        second = score_open_leads(conn, "night-2", datetime(2026, 6, 2, tzinfo=UTC))
        scores_2 = conn.execute(
            "select contact_id, score from ops.lead_scores order by 1"
        ).fetchall()
        runs = conn.execute(
            "select run_id, accepted, decision from ops.score_model_runs order by trained_at"
        ).fetchall()
    assert first.decision == "new model"
    assert "clearly worse" in second.decision
    assert scores_2 == scores_1  # the same model scored the same leads
    assert [(r[0], r[1]) for r in runs] == [("night-1", True), ("night-2", False)]
