"""Three spirals: softmax regression fails, one hidden layer of 30 ReLU units reaches >= 0.97.

The experiment's code is src/deepfin/demos/spiral.py (copy it to change it); this script runs it
as `deepfin demo spiral` does:

    python examples/spiral.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "spiral", *sys.argv[1:]]))
