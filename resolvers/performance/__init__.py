"""Shared performance measures: `measures` computes them in SQL, `sql` holds the portable day arithmetic and medians."""
