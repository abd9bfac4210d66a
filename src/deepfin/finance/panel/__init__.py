"""The rows known on each date: periods, features, outcomes, and preprocessing fitted on training rows only.

The calendar of periods, the features each date could compute, the outcomes (labels and next-period returns,
with the date each becomes known), and the preprocessing fitted on training rows only.

Imports ``deepfin.finance.data`` and nothing above it.
"""
