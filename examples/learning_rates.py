"""Learning rates and capacity: SGD at 1e-6, 0.01 and 1 side by side, then the seed's capacity table.

The experiment's code is src/deepfin/demos/learning_rates.py (copy it to change it); this script runs it
as `deepfin demo learning-rates` does:

    python examples/learning_rates.py [--out DIR] [--quick]
"""

import sys

from deepfin.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", "learning-rates", *sys.argv[1:]]))
