"""Run an emulator of an upstream service.

python -m events_face.integrations notifications --port 8102 --token T
python -m events_face.integrations provider --port 8101 --events N --seed S --token T
"""

import sys

USAGE = "usage: python -m events_face.integrations {notifications,provider} [options] (--help for each)"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"notifications", "provider"}:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] == "notifications":
        from events_face.integrations.notifications import emulator
    else:
        from events_face.integrations.events_provider import emulator
    return emulator.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
