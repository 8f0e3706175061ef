"""HTTP plumbing shared by every controller: problem details, authentication, sessions, idempotency."""
