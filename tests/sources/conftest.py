"""Shared set-up for the source tests."""

import pending_entry_points

pending_entry_points.ensure()
