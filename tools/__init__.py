"""Developer scripts (not part of the installed package): README and docs refresh."""
