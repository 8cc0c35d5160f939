"""LocalStack without Docker: the host-process Lambda runtime executor and the stack script."""
