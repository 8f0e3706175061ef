"""The two libraries: achievements, demands, organisations."""
