"""The repository layout: numbered migrations (the compose stack is checked in tests/deploy)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_migrations_are_numbered_without_gaps():
    versions = [int(p.name[:3]) for p in sorted((ROOT / "sql").glob("*.sql"))]
    assert versions == list(range(1, len(versions) + 1))
