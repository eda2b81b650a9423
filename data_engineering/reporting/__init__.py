"""What people would rather see than read: the dispatch report (plotly HTML)."""
