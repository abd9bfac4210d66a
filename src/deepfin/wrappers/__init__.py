"""scikit-learn estimators around deepfin models: ``deepfin.wrappers.scikit_learn``."""

from deepfin.wrappers.scikit_learn import KerasClassifier, KerasRegressor

__all__ = ["KerasClassifier", "KerasRegressor"]
