"""The data a run reads: prices, delistings, index membership, and synthetic markets whose truth is known.

Price and return files in any vendor's layout, delisting returns, index membership (the universe on each date),
and synthetic markets.

The lowest layer of ``deepfin.finance``: it imports no other part of it.
"""
