"""The models a run fits and how they are chosen: the network, the study's families and the grid search.

The network is the tuned network of ``deepfin run``; the study's families are those of Krauss, Do and Huck
(2017) and Fischer and Krauss (2018) (deep network, boosted trees, random forest, LSTM), a logistic regression
and their ensembles; the grid search is scored on walk-forward folds.

Imports ``backtest``, ``validation``, ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
