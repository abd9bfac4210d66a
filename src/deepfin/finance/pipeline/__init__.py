"""A run from its settings to its results: the settings (``RunConfig``), where the data come from, the plan
(rows, windows, folds), the steps of ``deepfin run`` and of the study, and the journal that makes them
resumable.

Imports every part of ``deepfin.finance`` but ``report``.
"""
