"""From predictions to a portfolio: the long-short book, its returns, costs and turnover, and its measures.

The book holds ``k`` names a side; the measures are those a portfolio manager judges it by.

Imports ``validation``, ``panel`` and ``data`` of ``deepfin.finance``, nothing above them.
"""
