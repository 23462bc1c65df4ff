"""hyperdeme benchmarks: throughput (issue #11) and search quality (issue #13).

Run them with ``scripts/bench`` (``--help`` for the options); see README.md.
"""
