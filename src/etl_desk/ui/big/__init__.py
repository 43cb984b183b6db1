"""Big-history mode: the window over the engine (histories of 10-100 million runs read where they lie)."""
