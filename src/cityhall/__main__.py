import sys

from cityhall.cli import main

sys.exit(main())
