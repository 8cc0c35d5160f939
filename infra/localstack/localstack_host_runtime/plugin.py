"""The entry point LocalStack finds in the ``localstack.lambda.runtime_executor`` group."""

from __future__ import annotations

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack_host_runtime import PLUGIN_NAME


class HostRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = PLUGIN_NAME

    def load(self, *args, **kwargs):
        from localstack_host_runtime.executor import HostRuntimeExecutor

        return HostRuntimeExecutor
