"""Notices: the one inbox people read, their preferences, and the email that carries notices outside the page."""
