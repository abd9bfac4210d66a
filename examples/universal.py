"""The universal approximator: 100 steep sigmoids with trained heights, and a trained MLP, on the seed's f(x).

The experiment's code is src/deepfin/demos/universal.py (copy it to change it); this script runs it
as `deepfin demo universal` does:

    python examples/universal.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "universal", *sys.argv[1:]]))
