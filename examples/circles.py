"""Concentric circles: 2 -> 3 sigmoid units -> 2 softmax, the 17-parameter network of the seed.

The experiment's code is src/deepfin/demos/circles.py (copy it to change it); this script runs it
as `deepfin demo circles` does:

    python examples/circles.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "circles", *sys.argv[1:]]))
