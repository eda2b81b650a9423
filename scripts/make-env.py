#!/usr/bin/env python3
"""Write `.env` for the compose stack from `.env.example`, with every placeholder secret replaced by a
fresh random one (and an Airflow Fernet key), so nothing secret is committed and no stack starts with
`change-me`. Standard library only: it runs before the platform is installed. Never overwrites."""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"^(?P<key>[A-Z0-9_]+)=(?P<value>change-me\S*)$", re.M)
FERNET = re.compile(r"^AIRFLOW_FERNET_KEY=$", re.M)


def render(example: str) -> str:
    text = PLACEHOLDER.sub(lambda m: f"{m['key']}={secrets.token_urlsafe(24)}", example)
    return FERNET.sub(f"AIRFLOW_FERNET_KEY={base64.urlsafe_b64encode(os.urandom(32)).decode()}", text)


def main(target: Path) -> int:
    if target.exists():
        print(f"{target} exists; leaving it as it is", file=sys.stderr)
        return 0
    target.write_text(render((ROOT / ".env.example").read_text()))
    target.chmod(0o600)
    print(f"wrote {target} with generated secrets (logins: see the README's compose section)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / ".env"))
