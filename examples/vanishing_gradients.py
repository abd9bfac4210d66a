"""Vanishing gradients: a deep sigmoid network with naive initialization against Glorot, He/ReLU and BatchNorm.

The experiment's code is src/deepfin/demos/vanishing_gradients.py (copy it to change it); this script runs it
as `deepfin demo vanishing-gradients` does:

    python examples/vanishing_gradients.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "vanishing-gradients", *sys.argv[1:]]))
