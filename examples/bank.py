"""The seed's bank example: forward propagation and gradient steps by hand, then predicting transactions.

The experiment's code is src/deepfin/demos/bank.py (copy it to change it); this script runs it
as `deepfin demo bank` does:

    python examples/bank.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "bank", *sys.argv[1:]]))
