import pytest

from data_engineering.storage.lake import LocalLake, open_lake


def _roundtrip(lake):
    lake.put("source=ami/date=2026-11-21/hour=12/batch-1.parquet", b"abc")
    lake.put("source=scada/x.parquet", b"de")
    assert lake.get("source=ami/date=2026-11-21/hour=12/batch-1.parquet") == b"abc"
    assert lake.exists("source=scada/x.parquet") and not lake.exists("source=scada/y.parquet")
    assert list(lake.list("source=ami/")) == ["source=ami/date=2026-11-21/hour=12/batch-1.parquet"]
    lake.delete("source=scada/x.parquet")
    assert list(lake.list("source=scada/")) == []


def test_local_lake(tmp_path):
    _roundtrip(LocalLake(tmp_path / "lake"))


def test_s3_lake_on_a_real_s3_server(lake):
    _roundtrip(lake)


def test_local_lake_refuses_keys_outside_its_root(tmp_path):
    with pytest.raises(ValueError, match="escapes"):
        LocalLake(tmp_path / "lake").put("../outside", b"x")


def test_open_lake_checks_its_url(tmp_path):
    assert isinstance(open_lake(f"file://{tmp_path}/l"), LocalLake)
    with pytest.raises(ValueError, match="S3_ENDPOINT"):
        open_lake("s3://bucket")
    with pytest.raises(ValueError, match="unsupported"):
        open_lake("ftp://x")
