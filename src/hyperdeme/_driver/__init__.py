"""The driver: optimizers, running an experiment, the result, the blocking and async APIs."""
