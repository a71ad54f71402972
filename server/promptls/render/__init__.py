"""Presentation of reports: terminal tables, JSON, GitHub annotations, SARIF. Formatting only."""
