"""`publisher subscribers import` on hostile CSV files: no traceback, every good row imported.

Each test drives the real CLI (click's CliRunner) on a file written here, with
the state folder set explicitly, and reads the SQLite database afterwards.
The property tests at the end call ``import_csv`` with arbitrary rows and bytes
and decide validity themselves, with ``email_validator``.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from publisher.app.context import Context
from publisher.app.subscriber_list import (
    export_csv,
    import_csv,
    list_subscribers,
    remove_subscriber,
)
from publisher.cli import main
from publisher.errors import InputError
from publisher.models import Subscriber
from publisher.store import iter_subscribers, open_store

HEADER = b"email,name,categories,status\n"


class Cli:
    """The CLI on a site whose state (the SQLite database) is in ``state``."""

    def __init__(self, site: Path, state: Path) -> None:
        self.site, self.state = site, state
        self.csv = state.parent / "list.csv"

    def run(self, *args: str) -> Result:
        env = {"PUBLISHER_PATHS__VAR": str(self.state)}
        return CliRunner().invoke(main, [*args, "--site", str(self.site)], env=env)

    def load(self, data: bytes) -> Result:
        """Import ``data`` as list.csv; asserts that nothing escaped as a traceback."""
        self.csv.write_bytes(data)
        result = self.run("subscribers", "import", str(self.csv))
        assert result.exc_info is None or result.exc_info[0] is SystemExit, result.exc_info
        assert "Traceback" not in result.output
        return result

    def stored(self) -> dict[str, Subscriber]:
        engine = open_store(f"sqlite:///{self.state / 'publisher.db'}")
        try:
            return {sub.email: sub for sub in iter_subscribers(engine)}
        finally:
            engine.dispose()


@pytest.fixture
def cli(site: Path, tmp_path: Path) -> Cli:
    return Cli(site, tmp_path / "state")


def problems(result: Result) -> list[str]:
    return [line.strip() for line in result.stderr.splitlines()]


# --- encodings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "name", "hint"),
    [("cp932", "山田 花子", "not UTF-8 (Shift-JIS?)"), ("latin-1", "José Núñez", "not UTF-8:")],
)
def test_rows_not_in_utf8_are_reported_and_the_others_imported(
    cli: Cli, encoding: str, name: str, hint: str
) -> None:
    text = f"email,name\nann@example.com,{name}\nbob@example.com,Bob\ncy@example.com,{name}\n"
    utf8_row = "dee@example.com,Dee 😀\n".encode()  # so the file is neither encoding whole
    result = cli.load(text.encode(encoding) + utf8_row)
    assert result.exit_code == 1
    assert result.stdout == (
        f"read {cli.csv} as utf-8: neither UTF-8 nor Shift-JIS: rows not in UTF-8 are skipped\n"
        "added 2, updated 0, skipped 2\n"
    )
    lines = problems(result)
    assert [line.split(":")[0] for line in lines] == ["line 2", "line 4"]
    assert all(hint in line and '"CSV UTF-8 (Comma delimited)"' in line for line in lines)
    assert sorted(cli.stored()) == ["bob@example.com", "dee@example.com"]


def test_a_shift_jis_file_from_japanese_excel_is_read_as_cp932(cli: Cli) -> None:
    text = "email,name,categories\r\nann@example.com,山田 花子,\r\nbob@example.com,ｱｲｳ ①,\r\n"
    result = cli.load(text.encode("cp932"))
    assert (result.exit_code, result.stdout) == (
        0,
        f"read {cli.csv} as cp932: not UTF-8, but Shift-JIS (cp932), as Japanese Excel saves CSV\n"
        "added 2, updated 0, skipped 0\n",
    )
    assert [s.name for s in cli.stored().values()] == ["山田 花子", "ｱｲｳ ①"]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            "\ufeffemail\nann@example.com\n".encode(),
            "utf-8: it starts with a UTF-8 byte order mark",
        ),
        (b"email\nann@example.com\n", "utf-8: valid UTF-8"),
        ("email,name\nann@example.com,Zoë\n".encode(), "utf-8: valid UTF-8"),
    ],
)
def test_the_encoding_used_is_said(cli: Cli, data: bytes, said: str) -> None:
    result = cli.load(data)
    assert result.stdout.splitlines()[0] == f"read {cli.csv} as {said}"


def test_encoding_given_is_used_and_rows_not_in_it_are_reported(cli: Cli) -> None:
    cli.csv.parent.mkdir(parents=True, exist_ok=True)
    cli.csv.write_bytes(
        "email,name\nann@example.com,José\n".encode("latin-1") + b"bob@x.org,\x81\n"
    )
    result = cli.run("subscribers", "import", str(cli.csv), "--encoding", "cp1252")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == f"read {cli.csv} as cp1252: as --encoding asked"
    assert problems(result) == ["line 3: not cp1252: give the file's encoding with --encoding"]
    assert cli.stored()["ann@example.com"].name == "José"
    unknown = cli.run("subscribers", "import", str(cli.csv), "--encoding", "klingon")
    assert unknown.exit_code == 2
    assert unknown.output == f"Error: {cli.csv}: unknown encoding 'klingon' (try utf-8 or cp932)\n"


def test_a_file_from_a_pipe_is_detected_too(site: Path, tmp_path: Path) -> None:
    ctx = Context(site_dir=site, environ={"PUBLISHER_PATHS__VAR": str(tmp_path / "state")})
    data = "email,name\nann@example.com,山田\n".encode("cp932")
    report = import_csv(ctx, io.BufferedReader(Unseekable(data)), source="-")
    assert (report.decoding.name, report.added) == ("cp932", 1)
    assert [s.name for s in list_subscribers(ctx)] == ["山田"]


class Unseekable(io.RawIOBase):
    """A pipe: read once, no seeking back."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk, self.data = self.data[: len(buffer)], self.data[len(buffer) :]
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_a_utf16_file_is_refused_in_one_line(cli: Cli) -> None:
    result = cli.load("email,name\nann@example.com,Ann\n".encode("utf-16"))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {cli.csv}:1: is UTF-16, not UTF-8:"
        ' in Excel save it as "CSV UTF-8 (Comma delimited)", then import it again\n'
    )
    assert cli.stored() == {}


def test_a_semicolon_separated_file_with_a_bom_from_european_excel(cli: Cli) -> None:
    result = cli.load("\ufeffEmail;Name\r\nann@example.com;Ann, Jr.\r\n".encode())
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (
        0,
        "added 1, updated 0, skipped 0",
    )
    assert cli.stored()["ann@example.com"].name == "Ann, Jr."


# --- the CSV structure --------------------------------------------------------------

SEPARATED = (
    "with ',', ';' or a tab between them; the first line must name the columns,"
    " e.g. email,name,categories,status"
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty: the first line must name the columns, e.g. email,name,categories,status"),
        (b"\n\n", "is empty: the first line must name the columns, e.g. email,name,categories,status"),
        (b"mail,name\nann@example.com,Ann\n", f"1: no 'email' column in the header: found 2 columns ('mail', 'name') {SEPARATED}"),
        (b"email|name\nann@example.com|Ann\n", f"1: no 'email' column in the header: found 1 column ('email|name') {SEPARATED}"),
        (b"E-mail\tName\tPhone\n", f"1: no 'email' column in the header: found 3 columns ('e-mail', 'name', 'phone') {SEPARATED}"),
        (b",".join(b"c%d" % i for i in range(12)) + b"\n", "1: no 'email' column in the header: found 12 columns ('c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7' and 4 more) " + SEPARATED),
        (b"email,name,Email\na@example.com,A,b@example.com\n", "1: two 'email' columns (columns 1 and 3): keep one"),
        (b"email,name,name\na@example.com,A,B\n", "1: two 'name' columns (columns 2 and 3): keep one"),
    ],
)  # fmt: skip
def test_a_file_without_a_usable_header_imports_nothing_and_exits_2(
    cli: Cli, data: bytes, reason: str
) -> None:
    result = cli.load(data)
    assert result.exit_code == 2
    separator = "" if reason[0].isdigit() else " "
    assert result.output == f"Error: {cli.csv}:{separator}{reason}\n"
    assert cli.stored() == {}


def test_a_cell_over_the_csv_field_limit_skips_only_its_row(cli: Cli) -> None:
    huge = b'"' + b"x" * 140_000 + b'"'
    result = cli.load(
        HEADER + b"ann@example.com,Ann\nbob@example.com," + huge + b"\ncy@example.com,Cy\n"
    )
    assert result.exit_code == 1
    assert problems(result) == ["line 3: a cell is longer than 131,072 characters"]
    assert sorted(cli.stored()) == ["ann@example.com", "cy@example.com"]


@pytest.mark.parametrize(
    ("last", "reason"),
    [
        (b'dee@example.com,"Dee"\n', "does not close at the end of a cell"),
        (b"dee@example.com,Dee\n", "is never closed"),
        (b"dee@example.com,Dee", "is never closed"),
    ],
)
def test_a_stray_quote_skips_its_row_and_the_lines_after_are_read_again(
    cli: Cli, last: bytes, reason: str
) -> None:
    rows = b'ann@example.com,Ann\nbob@example.com,"Bob\ncy@example.com,Cy\n'
    result = cli.load(HEADER + rows + last)
    assert result.exit_code == 1
    assert problems(result) == [f'line 3: a quoted cell opened here {reason} (a stray "?)']
    stored = cli.stored()
    assert sorted(stored) == ["ann@example.com", "cy@example.com", "dee@example.com"]
    assert stored["dee@example.com"].name == "Dee"


def test_a_quote_never_closed_over_the_field_limit_loses_no_later_row(cli: Cli) -> None:
    rows = b"".join(b"user%d@example.com,User %d\n" % (i, i) for i in range(8000))
    result = cli.load(HEADER + b'bad@example.com,"Bad\n' + rows)
    assert result.exit_code == 1
    assert problems(result) == ["line 2: a cell is longer than 131,072 characters"]
    stored = cli.stored()
    assert len(stored) == 8000 and stored["user7999@example.com"].name == "User 7999"


def test_a_record_over_several_lines_is_reported_at_its_first_line(cli: Cli) -> None:
    result = cli.load(HEADER + b'"ann\n@example.com",Ann\nbob@example.com,"Bob\r\nSmith"\n')
    assert result.exit_code == 1
    assert [p.split(":")[0] for p in problems(result)] == ["line 2"]
    assert cli.stored()["bob@example.com"].name == "Bob Smith"


def test_extra_cells_are_ignored_and_missing_ones_blank(cli: Cli) -> None:
    result = cli.load(b"email,name\rann@example.com,Ann,extra,more\rbob@example.com\r\r,,\r")
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (
        0,
        "added 2, updated 0, skipped 0",
    )
    assert [s.name for s in cli.stored().values()] == ["Ann", ""]


def test_a_file_that_cannot_be_read_any_further_keeps_the_rows_before(
    site: Path, tmp_path: Path
) -> None:
    data = HEADER + b"".join(b"user%d@example.com,User %d\n" % (i, i) for i in range(3000))
    cut = 40_000  # inside the line of some row: that row and the rest are not read
    ctx = Context(site_dir=site, environ={"PUBLISHER_PATHS__VAR": str(tmp_path / "state")})
    report = import_csv(ctx, io.BufferedReader(FailingFile(data, cut)), source="list.csv")
    complete = data[:cut].count(b"\n") - 1  # rows whose line end was read
    assert report.added == complete and complete > 1000  # more than one batch
    assert report.problems == (
        (complete + 2, "cannot be read any further (Input/output error); the rows before were imported"),
    )  # fmt: skip
    assert {s.email for s in list_subscribers(ctx)} == {
        f"user{i}@example.com" for i in range(complete)
    }


class FailingFile(io.RawIOBase):
    """A file whose disk fails after ``cut`` bytes (EIO), as a dying USB stick does."""

    def __init__(self, data: bytes, cut: int) -> None:
        self.data, self.cut, self.at = data, cut, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.at >= self.cut:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        chunk = self.data[self.at : min(self.cut, self.at + len(buffer))]
        buffer[: len(chunk)] = chunk
        self.at += len(chunk)
        return len(chunk)


def test_a_batch_the_database_refuses_is_rolled_back_and_the_earlier_ones_kept(
    cli: Cli,
) -> None:
    assert cli.run("db", "upgrade").exit_code == 0
    with sqlite3.connect(cli.state / "publisher.db") as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON subscribers"
            " WHEN NEW.email_key = 'user1500@example.com'"
            " BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END"
        )
    result = cli.load(HEADER + b"".join(b"user%d@example.com,U\n" % i for i in range(2500)))
    assert result.exit_code == 1
    assert result.output == (
        f"Error: database {cli.state / 'publisher.db'}: disk quota exceeded; the import stopped"
        " at the batch starting on line 1002: the rows before it were imported, none from it on"
        " (importing the file again is safe)\n"
    )
    assert sorted(cli.stored()) == sorted(f"user{i}@example.com" for i in range(1000))


# --- the cells ----------------------------------------------------------------------


def test_control_characters_and_bidi_overrides_are_dropped_from_names(cli: Cli) -> None:
    data = 'email,name\nann@example.com,\x1b[31mAnn\x00\u202eeiL\u202c\x07\nbob@example.com,"Bob\tvan\r\nDam"\n'
    result = cli.load(data.encode())
    assert result.exit_code == 0, result.output
    assert [s.name for s in cli.stored().values()] == ["[31mAnneiL", "Bob van Dam"]


def test_over_long_cells_are_reported_in_short_printable_lines(cli: Cli) -> None:
    long_name = b"n" * 100_000
    data = (
        HEADER
        + b"ann@example.com,"
        + long_name
        + b",,\nbob@example.com,Bob,,\x1b[2J"
        + b"y" * 100_000
    )
    result = cli.load(data + b"\ncy@example.com,Cy,,Active\n")
    assert result.exit_code == 1
    assert problems(result) == [
        "line 2: name longer than 200 characters (100,000)",
        "line 3: unknown status '[2j" + "y" * 77 + "…': use one of pending, active,"
        " unsubscribed, bounced or leave it blank",
    ]
    assert list(cli.stored()) == ["cy@example.com"]


def test_categories_separated_the_way_people_type_them(cli: Cli) -> None:
    cells = '"Policy；Markets、投資分析\nTech，AI;; ,Policy"'
    result = cli.load(HEADER + f"ann@example.com,Ann,{cells},\n".encode())
    assert result.exit_code == 0, result.output
    assert cli.stored()["ann@example.com"].categories == (
        "Policy",
        "Markets",
        "投資分析",
        "Tech",
        "AI",
    )


# --- the file itself (click already refuses these in one line: guards) ----------------


def test_a_folder_or_a_missing_file_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    for path, why in (
        (tmp_path, "Is a directory"),
        (tmp_path / "no.csv", "No such file or directory"),
    ):
        result = cli.run("subscribers", "import", str(path))
        assert result.exit_code == 2 and result.exc_info is not None
        assert result.exc_info[0] is SystemExit
        assert (
            result.output.splitlines()[-1]
            == f"Error: Invalid value for 'CSV_FILE': '{path}': {why}"
        )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_refused_in_one_line(cli: Cli) -> None:
    cli.csv.parent.mkdir(parents=True, exist_ok=True)
    cli.csv.write_bytes(HEADER)
    cli.csv.chmod(0)
    result = cli.run("subscribers", "import", str(cli.csv))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: Invalid value for 'CSV_FILE': '{cli.csv}': Permission denied"
    )


# --- export and import again ----------------------------------------------------------

HOSTILE = [
    "Smith, Ann",
    'Ann "the Admin" Smith',
    "Ann\nSmith",
    "山田 花子",
    "=cmd|' /C calc'!A0",
    "+1 (555) 0100",
    "-2+3",
    "@SUM(A1:A9)",
    "'plain apostrophe",
]


def test_hostile_names_survive_export_and_import_and_formulas_are_defused(
    cli: Cli, site: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name"])
    writer.writerows([f"user{i}@example.com", name] for i, name in enumerate(HOSTILE))
    assert cli.load(out.getvalue().encode()).exit_code == 0
    added = cli.run("subscribers", "add", "last@example.com", "--name", "'=already defused")
    assert added.exit_code == 0, added.output
    assert cli.run("subscribers", "export", str(tmp_path / "out.csv")).exit_code == 0
    exported = list(
        csv.reader(io.StringIO((tmp_path / "out.csv").read_bytes().decode(), newline=""))
    )
    names = [row[1] for row in exported[1:]]
    assert names == [
        "Smith, Ann",
        'Ann "the Admin" Smith',
        "Ann Smith",
        "山田 花子",
        "'=cmd|' /C calc'!A0",
        "'+1 (555) 0100",
        "'-2+3",
        "'@SUM(A1:A9)",
        "'plain apostrophe",
        "''=already defused",
    ]
    again = Cli(site, tmp_path / "again")
    assert again.load((tmp_path / "out.csv").read_bytes()).exit_code == 0
    assert [s.name for s in again.stored().values()] == [
        *(n.replace("\n", " ") for n in HOSTILE),
        "'=already defused",
    ]


# --- properties -----------------------------------------------------------------------

BREAKS = "\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029"
OVERRIDES = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
STATUSES = ["", "active", " Pending ", "UNSUBSCRIBED", "bounced"]
LAYOUTS = [("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL), ("\r", csv.QUOTE_ALL)]


def expected_name(cell: str) -> str:
    """The documented cleaning: breaks become spaces, other controls and overrides go."""
    kept = "".join(
        " " if c in BREAKS else "" if unicodedata.category(c) == "Cc" or c in OVERRIDES else c
        for c in cell
    )
    return re.sub(" +", " ", kept).strip()


def valid_address(cell: str) -> str | None:
    try:
        return validate_email(cell.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def no_apostrophe(text: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return text.filter(lambda s: not s.startswith("'"))  # export's prefix: tested above


ADDRESSES = no_apostrophe(
    st.one_of(st.emails(), st.text(max_size=30), st.emails().map(lambda e: f" {e.upper()}\n"))
)
ROWS = st.lists(
    st.tuples(
        ADDRESSES,
        no_apostrophe(st.text(max_size=40)),
        no_apostrophe(st.text(max_size=20)),
        st.sampled_from(STATUSES),
    ),
    max_size=8,
)
FAST = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def ctx(site: Path, tmp_path: Path) -> Context:
    return Context(site_dir=site, environ={"PUBLISHER_PATHS__VAR": str(tmp_path / "state")})


def emptied(ctx: Context) -> Context:
    for sub in list(list_subscribers(ctx)):
        remove_subscriber(ctx, sub.email)
    return ctx


def written(
    rows: list[tuple[str, str, str, str]], layout: tuple[str, int]
) -> tuple[bytes, list[int]]:
    """The CSV file of ``rows``, and the line each row starts on."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=layout[0], quoting=layout[1])  # type: ignore[call-overload]
    writer.writerow(["email", "name", "categories", "status"])
    starts = []
    for row in rows:
        starts.append(len(out.getvalue().encode().splitlines()) + 1)
        writer.writerow(row)
    return out.getvalue().encode(), starts


@FAST
@given(rows=ROWS, layout=st.sampled_from(LAYOUTS))
def test_every_row_with_a_valid_address_is_imported_with_its_name(
    ctx: Context, rows: list[tuple[str, str, str, str]], layout: tuple[str, int]
) -> None:
    data, starts = written(rows, layout)
    report = import_csv(emptied(ctx), io.BytesIO(data))
    names: dict[str, str] = {}
    bad = []
    for (address, name, _cats, _status), line in zip(rows, starts, strict=True):
        key = valid_address(address)
        if key is not None:
            names[key.lower()] = expected_name(name) or names.get(key.lower(), "")
        elif any(cell.strip() for cell in (address, name, _cats, _status)):
            bad.append(line)
    assert [line for line, _ in report.problems] == bad
    assert report.skipped == len(bad)
    assert {s.email.lower(): s.name for s in list_subscribers(ctx)} == names


@settings(FAST, max_examples=150)
@given(data=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(HEADER.__add__)))
def test_arbitrary_bytes_raise_nothing_but_input_error(ctx: Context, data: bytes) -> None:
    try:
        report = import_csv(emptied(ctx), io.BytesIO(data))
    except InputError:
        return
    assert report.skipped == len(report.problems)
    for sub in list_subscribers(ctx):
        assert valid_address(sub.email) == sub.email
        assert sub.name == expected_name(sub.name)


@settings(FAST, max_examples=30)
@given(names=st.lists(no_apostrophe(st.text(max_size=30)), min_size=1, max_size=6))
def test_export_then_import_gives_the_same_names_and_defuses_formulas(
    ctx: Context, site: Path, tmp_path: Path, names: list[str]
) -> None:
    rows = [(f"user{i}@example.com", name, "", "") for i, name in enumerate(names)]
    import_csv(emptied(ctx), io.BytesIO(written(rows, LAYOUTS[0])[0]))
    expected = [expected_name(name) for name in names]
    assert [s.name for s in list_subscribers(ctx)] == expected
    out = io.StringIO()
    export_csv(ctx, out)
    cells = [c for row in csv.reader(io.StringIO(out.getvalue(), newline="")) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    other = emptied(Context(site_dir=site, environ={"PUBLISHER_PATHS__VAR": str(tmp_path / "b")}))
    import_csv(other, io.BytesIO(out.getvalue().encode()))
    assert [s.name for s in list_subscribers(other)] == expected


# --- warnings: nothing refused ---------------------------------------------------------

UNKNOWN = "is not one the site has: {} chose it, and no post of it will reach them"


def test_categories_the_site_does_not_have_are_imported_with_a_warning(
    cli: Cli, site: Path
) -> None:
    (site / "_posts" / "2025-09-21-a.md").write_text(
        "---\ntitle: A\ncategories: [投資分析, Tech]\n---\nBody.\n", encoding="utf-8"
    )
    rows = "ann@example.com,Ann,投資分折,\nbob@example.com,Bob,投資分析;Tech,\ncy@example.com,Cy,投資分折;Nope,\n"
    result = cli.load(HEADER + rows.encode())
    assert result.exit_code == 0, result.output
    assert problems(result) == [
        f"warning: category '投資分折' {UNKNOWN.format('2 subscribers')} (did you mean '投資分析'?)",
        f"warning: category 'Nope' {UNKNOWN.format('1 subscriber')}",
    ]
    assert cli.stored()["cy@example.com"].categories == ("投資分折", "Nope")
    added = cli.run("subscribers", "add", "dee@example.com", "--categories", "Tech,投資分折")
    assert (added.exit_code, added.stdout) == (0, "dee@example.com: active\n")
    assert added.stderr == (
        f"warning: category '投資分折' {UNKNOWN.format('1 subscriber')} (did you mean '投資分析'?)\n"
    )
    assert cli.stored()["dee@example.com"].categories == ("Tech", "投資分折")


def test_categories_named_in_the_settings_are_known_too(cli: Cli, site: Path) -> None:  # a guard
    (site / "publisher.toml").write_text(
        '[categories]\n"投資分析" = "investment"\n', encoding="utf-8"
    )
    result = cli.load(HEADER + "ann@example.com,Ann,投資分析,\n".encode())
    assert (result.exit_code, result.stderr) == (0, "")


def test_columns_that_are_not_read_are_named_in_a_warning(cli: Cli) -> None:
    result = cli.load(b"email,nmae,Phone\nann@example.com,Ann,555\n")
    assert result.exit_code == 0
    known = "the columns read are email, name, categories, status"
    assert problems(result) == [
        f"warning: column 2, 'nmae', is ignored: {known}",
        f"warning: column 3, 'phone', is ignored: {known}",
    ]
    assert cli.stored()["ann@example.com"].name == ""
