"""The market simulator and the synthetic world generator."""
