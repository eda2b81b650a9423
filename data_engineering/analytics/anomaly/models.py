"""The two learned detectors, per kind of window (transformer or meter):

- `IsolationForest` on the features, unsupervised: it says "anomalous", not which fault, so it is
  scored against any fault on the window; its threshold flags the share of training windows that
  had one (the only thing it takes from the labels);
- one `HistGradientBoostingClassifier` per fault kind (one-vs-rest: windows can carry several
  kinds at once, a sag during a frequency excursion), trained on the labelled windows.

Both run on one thread: on windows this few, OpenMP's threads spin more than they work (a 15-minute
bench period trained in 93 s on two busy cores, 9 s on one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier, IsolationForest
from threadpoolctl import threadpool_limits


@dataclass
class Detector:
    features: tuple[str, ...]
    kinds: tuple[str, ...]
    seed: int = 0
    forest: IsolationForest | None = None
    threshold: float = 0.0
    classifiers: dict[str, HistGradientBoostingClassifier | None] = field(default_factory=dict)

    def fit(self, x: pd.DataFrame, labels: pd.DataFrame) -> Detector:
        """A kind with no positive window in training gets no classifier (it never flags)."""
        with threadpool_limits(1):
            return self._fit(x, labels)

    def _fit(self, x: pd.DataFrame, labels: pd.DataFrame) -> Detector:
        values = x[list(self.features)].to_numpy()
        self.forest = IsolationForest(n_estimators=200, random_state=self.seed).fit(values)
        positive_share = float(labels[list(self.kinds)].any(axis=1).mean())
        self.threshold = float(np.quantile(self.anomaly_score(x), 1.0 - max(positive_share, 1e-3)))
        for kind in self.kinds:
            y = labels[kind].to_numpy()
            self.classifiers[kind] = (HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1,
                                                                     random_state=self.seed).fit(values, y)
                                      if y.any() else None)
        return self

    def anomaly_score(self, x: pd.DataFrame) -> np.ndarray:
        """Higher is more anomalous (the forest's score negated)."""
        return -self.forest.score_samples(x[list(self.features)].to_numpy())

    def forest_flags(self, x: pd.DataFrame) -> np.ndarray:
        return self.anomaly_score(x) > self.threshold

    def probabilities(self, x: pd.DataFrame) -> pd.DataFrame:
        values = x[list(self.features)].to_numpy()
        with threadpool_limits(1):
            return pd.DataFrame({k: (c.predict_proba(values)[:, 1] if c is not None else np.zeros(len(x)))
                                 for k, c in self.classifiers.items()}, index=x.index)
