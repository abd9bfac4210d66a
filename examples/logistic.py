"""The seed's logistic regressor: NumPy by hand, then deepfin, with identical losses 0.8223 -> 0.2034.

The experiment's code is src/deepfin/demos/logistic.py (copy it to change it); this script runs it
as `deepfin demo logistic` does:

    python examples/logistic.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "logistic", *sys.argv[1:]]))
