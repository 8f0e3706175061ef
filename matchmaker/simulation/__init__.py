"""The market simulator: agents trading on a generated world, policy scenarios, runs and their reports."""
