"""make_classification (5,000 x 20): the seed's 20 -> 10 tanh -> 1 sigmoid network, by hand and in deepfin.

The experiment's code is src/deepfin/demos/classification.py (copy it to change it); this script runs it
as `deepfin demo classification` does:

    python examples/classification.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "classification", *sys.argv[1:]]))
