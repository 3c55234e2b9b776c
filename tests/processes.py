"""Kept for the tests and benchmarks that still import it: the helpers live in `tests/support/`."""

from tests.support.processes import (  # noqa: F401
    PROJECT_DIR,
    Emulator,
    command_env,
    free_port,
    manage,
    start_emulator,
    test_database_url,
    wait_for_port,
)
