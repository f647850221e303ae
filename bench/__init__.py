"""The benchmark: the studio measured against its performance goals.

    python -m bench [--latency 1.0] [--quick]

Starts the sandbox API and the app as subprocesses on 127.0.0.1, measures batch, compare grid,
crowds (20 to 1000 callers, and fairness), overhead (per size and image format), start-up,
memory and a 5000-image soak side by side, prints the table and writes bench/RESULTS.md.
Not part of the test suite: it takes a few minutes and its figures depend on the machine.
"""
