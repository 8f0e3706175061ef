"""精准推送: inbox entries for newly published matches, and users' subscriptions."""
