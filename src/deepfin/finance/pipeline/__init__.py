"""A run from its settings to its results: settings, data sources, the plan, the steps and the journal.

The settings (``RunConfig``), where the data come from, the plan (rows, windows, folds), the steps of
``deepfin run`` and of the study, and the journal that makes them resumable.

Imports every part of ``deepfin.finance`` but ``report``.
"""
