"""GovernedPush: gates + approval policy + atomic versioned publishing (see README.md)."""
