# The official Airflow image with closedloop's pinned dependencies and code.
FROM apache/airflow:3.3.2-python3.11

USER airflow
COPY --chown=airflow:root pyproject.toml README.md /opt/closedloop/
COPY --chown=airflow:root plugins /opt/closedloop/plugins
RUN pip install --no-cache-dir /opt/closedloop
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:root include /opt/airflow/include
ENV CLOSEDLOOP_DBT_PROJECT_DIR=/opt/airflow/dbt_project \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    GX_ANALYTICS_ENABLED=False \
    DO_NOT_TRACK=1
# cosmos renders the DAG from the manifest: compile it into the image.
RUN cd /opt/airflow/dbt_project && dbt parse --profiles-dir . --quiet
