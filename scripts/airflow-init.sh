#!/usr/bin/env bash
# The compose stack's airflow-init: Airflow's metadata schema, then the admin login of the simple auth
# manager (user admin, password AIRFLOW_ADMIN_PASSWORD). Airflow only generates a password for users
# missing from this file, so the one from .env is the one that works.
set -euo pipefail
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env (make .env generates one)}"
python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
with open(path, "w") as file:
    json.dump({"admin": os.environ["AIRFLOW_ADMIN_PASSWORD"]}, file)
PY
exec airflow db migrate
