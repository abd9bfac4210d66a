"""Two moons with hidden layers of 1, 3 and 500 tanh units: under-fit, about right, over-fit.

The experiment's code is src/deepfin/demos/moons.py (copy it to change it); this script runs it
as `deepfin demo moons` does:

    python examples/moons.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "moons", *sys.argv[1:]]))
