"""tfxgate's ingestion component (see README.md in this folder)."""
