"""Governed pushing as a library: gates, the approval policy, atomic publishing and the store of decisions."""
