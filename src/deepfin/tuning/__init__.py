"""Training many networks at once: the stacked trainer and a GridSearchCV that uses it."""

from deepfin.tuning.search import GridSearchCV, candidate_groups, fit_candidates
from deepfin.tuning.stacked import Pattern, fit_stack, pattern, stack_reason

__all__ = ["GridSearchCV", "Pattern", "candidate_groups", "fit_candidates", "fit_stack", "pattern", "stack_reason"]
