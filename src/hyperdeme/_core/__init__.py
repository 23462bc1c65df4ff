"""The bottom layer: errors, argument checks, logging, the trial record, config plumbing.

Nothing here imports the rest of hyperdeme.
"""
