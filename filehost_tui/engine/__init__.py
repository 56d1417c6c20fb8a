"""The upload engine: queue store, metrics, archives, workers. Never imports textual."""
