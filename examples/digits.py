"""Handwritten digits: softmax regression vs one hidden ReLU layer of 64 vs the same with L2 and dropout.

The experiment's code is src/deepfin/demos/digits.py (copy it to change it); this script runs it
as `deepfin demo digits` does:

    python examples/digits.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "digits", *sys.argv[1:]]))
