"""README.ru.md keeps in step with README.md: both have the same sections (headings of the same
levels, in the same order) and name the same commands and the same environment variables.

Commands: inline code and lines of code blocks (comments dropped) that start with
a command (`make`, `python`, `manage.py`, `curl`, a management command...).
Variables: UPPER_CASE names with an underscore anywhere (not in a path), and
capital names in code that are set there (`TOKEN=...`) or that the project reads
from the environment (`DEBUG`, `PORT`).
"""

import re

from tests.support.processes import PROJECT_DIR

COMMAND_WORDS = {
    "make",
    "python",
    "python3",
    ".venv/bin/python",
    ".tools/bin/uv",
    "uv",
    "manage.py",
    "gunicorn",
    "curl",
    "pyenv",
    "sync_events",
    "cleanup_events",
    "worker",
}
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+(?:\n[^`\n]+)?)`")
ASSIGNMENTS = re.compile(r"^(?:[A-Z][A-Z0-9_]*=\S*\s+)+")
UNDERSCORED_NAME = re.compile(r"(?<![/\w])[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b")
NAME_ALONE = re.compile(r"\$?([A-Z][A-Z0-9_]*)")
NAME_SET = re.compile(r"([A-Z][A-Z0-9_]*)=")
READ_FROM_ENVIRONMENT = re.compile(
    r"""(?:env(?:\.\w+)?|environ\.get|_configured)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)


def environment_variables() -> set[str]:
    """Names .env.example lists or the code reads from the environment."""
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (PROJECT_DIR / ".env.example").read_text(), re.MULTILINE))
    for module in (PROJECT_DIR / "events_face").rglob("*.py"):
        names |= set(READ_FROM_ENVIRONMENT.findall(module.read_text()))
    return names


def code_pieces(markdown: str) -> list[str]:
    """Each inline code span and each line of each code block, comments dropped, spaces made single."""
    pieces = []
    for block in FENCE.findall(markdown):
        pieces += [line.split(" #")[0] for line in block.splitlines() if not line.lstrip().startswith("#")]
    pieces += INLINE_CODE.findall(FENCE.sub("", markdown))
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def commands(markdown: str) -> set[str]:
    found = set()
    for piece in code_pieces(markdown):
        command = ASSIGNMENTS.sub("", piece)
        if command.split(" ", 1)[0] in COMMAND_WORDS:
            found.add(piece)
    return found


def variables(markdown: str) -> set[str]:
    found = set(UNDERSCORED_NAME.findall(markdown))
    known = environment_variables()
    for piece in code_pieces(markdown):
        if (alone := NAME_ALONE.fullmatch(piece)) and alone.group(1) in known:
            found.add(alone.group(1))
        elif set_here := NAME_SET.match(piece):
            found.add(set_here.group(1))
    return found


def difference_report(what: str, english: set[str], russian: set[str]) -> str:
    lines = []
    if missing := sorted(english - russian):
        lines.append(f"{what} in README.md but not in README.ru.md: {missing}")
    if extra := sorted(russian - english):
        lines.append(f"{what} in README.ru.md but not in README.md: {extra}")
    return "\n".join(lines)


def readmes() -> tuple[str, str]:
    return (PROJECT_DIR / "README.md").read_text(), (PROJECT_DIR / "README.ru.md").read_text()


def test_the_extraction_finds_what_the_readme_names():
    english, _ = readmes()

    assert {"make run", "make test", "make lint", "make messages", "worker --once"} <= commands(english)
    assert {
        "DATABASE_URL",
        "SECRET_KEY",
        "DEBUG",
        "PORT",
        "NOTIFICATIONS_TIME_ZONE",
        "LANGUAGE_CODE",
    } <= variables(english)


def test_both_readmes_name_the_same_commands():
    english, russian = readmes()

    assert commands(english) == commands(russian), difference_report(
        "commands", commands(english), commands(russian)
    )


def test_both_readmes_name_the_same_environment_variables():
    english, russian = readmes()

    assert variables(english) == variables(russian), difference_report(
        "variables", variables(english), variables(russian)
    )


HEADING = re.compile(r"^(#{1,6}) ", re.MULTILINE)
LINK_TO_HEADING = re.compile(r"\]\(#([\w-]+)\)")


def heading_levels(markdown: str) -> list[int]:
    """The level of each heading outside code blocks (a `# comment` in a shell block is none)."""
    return [len(marks) for marks in HEADING.findall(FENCE.sub("", markdown))]


def anchors(markdown: str) -> set[str]:
    """GitHub's anchor of each heading: lowercased, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#{1,6} (.+)$", FENCE.sub("", markdown), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_the_heading_extraction_skips_comments_in_code_blocks():
    english, _ = readmes()

    assert heading_levels("# Title\n\n```sh\n# a comment\n```\n## Section\n") == [1, 2]
    assert heading_levels(english).count(1) == 1


def test_both_readmes_have_the_same_sections_in_the_same_order():
    english, russian = readmes()

    assert heading_levels(english) == heading_levels(russian), (
        "README.md and README.ru.md differ in their sections: "
        f"{re.findall(r'^#+ .+$', FENCE.sub('', english), re.MULTILINE)} != "
        f"{re.findall(r'^#+ .+$', FENCE.sub('', russian), re.MULTILINE)}"
    )


def test_links_within_each_readme_point_at_a_heading_of_it():
    for markdown in readmes():
        assert set(LINK_TO_HEADING.findall(markdown)) <= anchors(markdown)


def test_make_serve_points_at_the_production_section():
    for markdown in readmes():
        assert "[Production](#production)" in markdown and "production" in anchors(markdown)


def test_both_readmes_quote_the_same_code():
    """Inline code holds what a reader types or branches on (`?key_prefix=NAME`, error codes):
    the translation keeps every one."""
    quoted = [
        {" ".join(span.split()) for span in INLINE_CODE.findall(FENCE.sub("", text))} for text in readmes()
    ]

    assert quoted[0] == quoted[1], difference_report("inline code", quoted[0], quoted[1])


def test_each_readme_links_to_the_other():
    english, russian = readmes()

    assert "(README.ru.md)" in english and "(README.md)" in russian
