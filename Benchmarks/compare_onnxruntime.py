#!/usr/bin/env python3
"""Kept so that existing command lines work: compare_peers.py with onnxruntime as the only peer.

    python3 Benchmarks/compare_onnxruntime.py [compare_peers.py options]
  = python3 Benchmarks/compare_peers.py --peers onnxruntime [options]   (a later --peers overrides)

See compare_peers.py and Benchmarks/README.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import compare_peers  # noqa: E402

if __name__ == "__main__":
    compare_peers.main(["--peers", "onnxruntime"] + sys.argv[1:])
