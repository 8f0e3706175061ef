"""The synthetic world that seeds the platform: organisations, brokers, postings and their latent fits."""
