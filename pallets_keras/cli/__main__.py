"""`python -m pallets_keras.cli`: the `pallets` command line."""

import sys

from pallets_keras.cli import main

sys.exit(main())
