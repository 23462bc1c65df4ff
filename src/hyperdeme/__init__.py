"""hyperdeme: hyperparameter optimization of real training programs."""
