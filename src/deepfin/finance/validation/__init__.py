"""Out-of-sample validation: walk-forward windows, the predictions on their test rows, and their measures.

The measures of those predictions are the ROC AUC and the information coefficient.

Imports ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
