"""The models a run fits and how they are chosen: the network, the study's families (deep network, boosted
trees, random forest, LSTM, logistic regression and their ensembles) and the grid search on walk-forward folds.

Imports ``backtest``, ``validation``, ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
