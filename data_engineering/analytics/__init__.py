"""AMI analytics: the SQL lives in `sql/analytics/`; this package runs it with parameters."""
