"""The lead score learns from known outcomes and falls back to the base rate when it cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from closedloop.scoring import predict_won_probability


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


def test_the_score_ranks_leads_by_what_made_past_leads_win():
    # Ground truth of this toy world: pricing/demo views drive wins, nothing else does.
    def rule(frame, rng):
        return rng.random(len(frame)) < 1 / (1 + np.exp(-(frame["intent_pageviews"] - 4)))

    labelled = leads(600, seed=1, won_rule=rule)
    open_leads = leads(200, seed=2)
    probabilities, model = predict_won_probability(labelled, open_leads)
    assert model == "logistic_regression"
    by_intent = pd.Series(probabilities).groupby(open_leads["intent_pageviews"]).mean()
    assert by_intent.is_monotonic_increasing
    assert by_intent.iloc[-1] - by_intent.iloc[0] > 0.5


def test_too_few_known_outcomes_score_every_lead_at_the_base_rate():
    labelled = leads(10, seed=3, won_rule=lambda frame, rng: np.arange(len(frame)) < 3)
    probabilities, model = predict_won_probability(labelled, leads(7, seed=4))
    assert model == "base_rate"
    assert np.allclose(probabilities, 0.3)
