"""Day-2 operations against a real cluster: deploy with progress, verify the design's testing plan."""
