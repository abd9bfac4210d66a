"""A run's and a study's files: report.html, metrics.json, predictions and settings.

The files come with the sentences that explain their figures.

The top layer of ``deepfin.finance``: nothing in it imports ``report``.
"""
