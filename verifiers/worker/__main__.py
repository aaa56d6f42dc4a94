"""Entry point of the worker pool's zygote: ``python -m verifiers.worker FD RETIRE_RSS_KB``."""

import sys

from verifiers.worker.serve import main

if __name__ == "__main__":
    main(sys.argv)
