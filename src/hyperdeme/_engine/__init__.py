"""The engine: turns a strategy's candidates into finished, journalled trials.

The evaluator and its settings, the slot scheduler, the per-trial runner
(attempts, retries, metric scanning, early stopping), the journal and the run
directory.
"""
