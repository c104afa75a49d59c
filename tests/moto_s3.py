"""A real S3 API for tests: moto's server on a free loopback port, with one bucket (a module
of its own: any test file or conftest imports it by name)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from live_server import free_port


@contextmanager
def moto_s3(bucket: str) -> Iterator[str]:
    """Start moto's S3 server with ``bucket`` created; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        port = free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        try:
            import boto3

            boto3.client(
                "s3", endpoint_url=endpoint, aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
            ).create_bucket(Bucket=bucket)
            yield endpoint
        finally:
            server.stop()
