"""The benchmark: the studio measured against its performance goals.

    python -m bench [--latency 1.0] [--quick]

Starts the sandbox API and the app as subprocesses on 127.0.0.1, measures batch, crowd,
overhead, start-up and memory side by side, prints the table and writes bench/RESULTS.md.
Not part of the test suite: it takes a few minutes and its figures depend on the machine.
"""
