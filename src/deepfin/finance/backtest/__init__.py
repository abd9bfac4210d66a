"""From predictions to a portfolio: the long-short book at ``k`` names a side, its returns, costs and turnover,
and the measures it is judged by.

Imports ``validation``, ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
