"""The raw data lake behind one small interface: an S3 bucket (MinIO, or any S3 server, through the
`minio` client) or a local directory for the embedded default. Keys are `/`-separated paths."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

log = logging.getLogger(__name__)


class Lake(Protocol):
    url: str

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[str]: ...

    def delete(self, key: str) -> None: ...


class LocalLake:
    """A directory. Writes go to a temporary file and are renamed into place, so a reader never
    sees half an object and a crash never leaves one."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"lake key escapes the lake root: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and not path.name.startswith(".tmp-") and key.startswith(prefix):
                yield key

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Lake:
    """A bucket (and optional key prefix) on an S3 server; the bucket is created if missing. A server
    that is away when the lake is opened is not an error: the bucket is checked again at the first
    write, and a write fails within seconds (few retries, short connect timeout) so the caller can
    keep its objects pending instead of hanging."""

    def __init__(self, bucket: str, endpoint: str, access_key: str, secret_key: str,
                 prefix: str = "", secure: bool = False, region: str = "us-east-1") -> None:
        import urllib3
        from minio import Minio

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=3, read=60), maxsize=8,
                                   retries=urllib3.Retry(total=2, backoff_factor=0.2,
                                                         status_forcelist=[500, 502, 503, 504]))
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
                            http_client=http)
        self._bucket_ready = False
        try:
            self._ensure_bucket()
        except urllib3.exceptions.HTTPError as exc:
            log.warning("S3 server %s not answering (%s): the bucket is checked at the first write", endpoint, exc)

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket)
            self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._ensure_bucket()
        self.client.put_object(self.bucket, self.prefix + key, io.BytesIO(data), len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, self.prefix + key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, key: str) -> bool:
        from minio.error import S3Error

        try:
            self.client.stat_object(self.bucket, self.prefix + key)
            return True
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NotFound", "ResourceNotFound"}:
                return False
            raise

    def list(self, prefix: str = "") -> Iterator[str]:
        for obj in self.client.list_objects(self.bucket, prefix=self.prefix + prefix, recursive=True):
            yield obj.object_name[len(self.prefix):]

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, self.prefix + key)


def open_lake(url: str, endpoint: str | None = None, access_key: str | None = None,
              secret_key: str | None = None, secure: bool = False, region: str = "us-east-1") -> Lake:
    """`file:///abs/path`, `file://relative/path` or `s3://bucket[/prefix]`."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalLake(Path(parsed.netloc + parsed.path))
    if parsed.scheme == "s3":
        if not (endpoint and access_key and secret_key):
            raise ValueError("an s3:// lake needs S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY")
        return S3Lake(parsed.netloc, endpoint, access_key, secret_key, parsed.path, secure, region)
    raise ValueError(f"unsupported lake URL {url!r}: use file://… or s3://…")
