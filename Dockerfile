# syntax=docker/dockerfile:1
#
# The Next steps image: the official Airflow image plus this project's locked dependencies
# (uv.lock) and its code.  docker-compose.yml builds it (`build: .`); nothing is installed
# when a container starts (no _PIP_ADDITIONAL_REQUIREMENTS).
#
# The Airflow version and the Python version in the FROM lines must be the ones in uv.lock
# (apache-airflow==3.3.2, requires-python ==3.11.*); tests/test_compose.py checks that,
# and the install step below refuses to build if they ever differ.
#
# How the dependencies are installed, and why this way:
#   * uv.lock is the single source of versions: the image runs what `make test` tested.
#     A throwaway stage turns it into a hashed requirements file with the same uv the
#     Makefile pins (UV_VERSION), so uv itself never ends up in the runtime image.
#     `--no-dev` drops the test and lint tools; `--no-emit-project` leaves out the project
#     itself: its code is in plugins/, which Airflow puts on sys.path.
#   * The final stage follows the official image's rules for extending it
#     (https://airflow.apache.org/docs/docker-stack/build.html): install with `pip`, as
#     the `airflow` user (the image's pip installs into that user's environment), and never
#     let pip move Airflow away from the image's version.  The exported file pins
#     apache-airflow==<lock version> with hashes, and the build fails unless that equals
#     the image's ${AIRFLOW_VERSION}, so pip keeps the installed Airflow.  (The docs'
#     `pip install "apache-airflow==${AIRFLOW_VERSION}" -r ...` form cannot be combined
#     with hash checking, hence the explicit check instead.)
#   * The image's own constraints file (${HOME}/constraints.txt) is not applied: the lock
#     was resolved on its own and pins other patch versions than Airflow's constraints, so
#     pip would refuse the combination.  The providers docker-compose.yml uses (postgres,
#     celery, fab) are in the lock, so the image runs the versions the tests ran.  `pip
#     check` afterwards is the safety net: every other provider the image comes with must
#     still be satisfied by the locked versions, or the build fails here rather than a
#     task at night.
#
# The code (dags/, plugins/, dbt_project/, expectations/) is copied in as well, so the image
# runs a night on its own (any orchestrator, no bind mounts); the sample data
# (plugins/next_steps/sample/) is left out by .dockerignore: no night needs it.  docker-compose.yml mounts the
# working tree over the same paths, so local edits show without a rebuild.

FROM apache/airflow:3.3.2-python3.11 AS requirements
ARG UV_VERSION=0.13.9
COPY pyproject.toml uv.lock /tmp/lock/
RUN pip install --no-cache-dir "uv==${UV_VERSION}" \
    && cd /tmp/lock \
    && python -m uv export --frozen --no-dev --no-emit-project --quiet \
        --output-file /tmp/requirements.txt


FROM apache/airflow:3.3.2-python3.11

COPY --from=requirements --chown=airflow:root /tmp/requirements.txt /tmp/requirements.txt
RUN if ! grep -q "^apache-airflow==${AIRFLOW_VERSION} " /tmp/requirements.txt; then \
        echo "uv.lock does not pin apache-airflow==${AIRFLOW_VERSION} (the base image's version):" >&2; \
        grep "^apache-airflow==" /tmp/requirements.txt >&2; \
        exit 1; \
    fi \
    && pip install --no-cache-dir --require-hashes --requirement /tmp/requirements.txt \
    && pip check \
    && rm /tmp/requirements.txt

# Where a night's data lives (a named volume in docker-compose.yml).  Group 0 may write, so
# the container also works with an arbitrary AIRFLOW_UID (the official image's convention).
ENV NEXT_STEPS_DATA_DIR=/opt/airflow/data \
    PYTHONPATH=/opt/airflow/plugins \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1
RUN mkdir -p /opt/airflow/data/landing && chmod -R g+rwX /opt/airflow/data

COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root plugins/ /opt/airflow/plugins/
COPY --chown=airflow:root dbt_project/ /opt/airflow/dbt_project/
COPY --chown=airflow:root expectations/ /opt/airflow/expectations/
