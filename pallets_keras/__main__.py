"""`python -m pallets_keras`: the `pallets` command line."""

import sys

from pallets_keras.cli import main

sys.exit(main())
