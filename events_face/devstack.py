"""`make run`: the whole service on one machine, with zero configuration.

Serves the API on http://127.0.0.1:8000 (override with PORT).
"""

import os
import subprocess
import sys

HOST = "127.0.0.1"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    base = f"http://{HOST}:{port}"
    print(
        f"\nEvents Face is starting on {base}\n"
        f"  API:     {base}/api/events/\n"
        f"  Docs:    {base}/api/docs/\n"
        f"  Schema:  {base}/api/schema/\n"
        f"  Admin:   {base}/admin/  (create a login with `uv run python manage.py createsuperuser`)\n",
        flush=True,
    )
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"{HOST}:{port}"])
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()


if __name__ == "__main__":
    sys.exit(main())
