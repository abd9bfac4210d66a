"""The data a run reads: price and return files in any vendor's layout, delisting returns, index membership
(the universe on each date), and synthetic markets whose truth is known.

The lowest layer of ``deepfin.finance``: it imports no other part of it.
"""
