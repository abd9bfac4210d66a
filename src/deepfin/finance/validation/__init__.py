"""Out-of-sample validation: walk-forward windows, the predictions a model makes on each window's test rows,
and the measures of those predictions (AUC, information coefficient).

Imports ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
