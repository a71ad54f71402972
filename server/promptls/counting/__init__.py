"""Token counting: the offline estimator and the exact count_tokens path (API, cache, rate limit)."""
