"""Bulk import and export of organisations, achievements and demands as JSONL or CSV: every row or none."""
