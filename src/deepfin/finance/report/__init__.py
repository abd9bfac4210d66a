"""A run's and a study's files: report.html, metrics.json, predictions and settings, with the sentences that
explain the figures.

The top layer of ``deepfin.finance``: nothing in it imports ``report``.
"""
