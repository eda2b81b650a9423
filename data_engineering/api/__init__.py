"""The platform's HTTP API (FastAPI): results, AMI analytics, topology and a live stream, behind
API keys or JWTs with roles viewer < analyst < operator < admin. `lascopf api` serves it."""
