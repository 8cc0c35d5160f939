"""LocalStack runtime executor that runs Python Lambda handlers as host processes (no Docker).

Installed into LocalStack's own virtualenv (``pip install infra/localstack``) and selected
with ``LAMBDA_RUNTIME_EXECUTOR=host``. See docs/localstack.md.
"""

PLUGIN_NAME = "host"
