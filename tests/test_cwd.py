"""Nothing depends on the current folder: the same command gives the same answer from anywhere.

Real ``publisher`` processes on a copy of the example site, with no
``PUBLISHER_*`` variable (so the link secret is generated into the state
folder, ``SITE/.publisher/``): run from a folder A, from a folder B, from
``/`` (as systemd does), from a ``$HOME`` (as cron does) and from the site's
parent with a relative ``--site``, they see the same subscribers and sign the
same unsubscribe links, and none of those folders gets a new file. A
``--config`` elsewhere anchors its ``[paths] var`` next to itself. State left
in ``./var`` by an earlier version stops every command that would start anew
(exit 2, saying how to move it) and the suggested move works.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import copy_example_site
from state_support import CSV, NOW, clean_env, listing, ok, publisher

from publisher.config import load_settings
from publisher.tokens import sign

STATE = ".publisher"
UNSUBSCRIBE = re.compile(r"^List-Unsubscribe: <https://[^>]+/unsubscribe/([^>]+)>", re.M)
EXPECTED = ["state-ann@example.net", "state-taro@example.net"]


def _site(parent: Path) -> Path:
    site = parent / "site"
    copy_example_site(site)
    return site


def _emails(result: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(line.split("\t")[0] for line in ok(result).splitlines())


def _token(eml: str) -> str:
    match = UNSUBSCRIBE.search(eml)
    assert match, eml[:2000]
    return match[1]


def _folder(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "notes.txt").write_text("someone's own file\n", encoding="utf-8")
    return folder


def test_the_same_answer_from_any_folder_and_nothing_written_there(tmp_path: Path) -> None:
    blog = tmp_path / "blog"
    site = _site(blog)
    a, b, home = (_folder(tmp_path, name) for name in ("a", "b", "home"))
    (a / "subscribers.csv").write_text(CSV, encoding="utf-8")
    before = {folder: listing(folder) for folder in (a, b, home)}
    blog_before = {p.name for p in blog.iterdir()}
    root_before = {p.name for p in Path("/").iterdir()}

    imported = publisher("subscribers", "import", "subscribers.csv", "--site", str(site), cwd=a)
    assert "added 2, updated 0, skipped 0" in ok(imported)

    # (cwd, --site as given, environment): a shell, systemd, cron, the site's parent.
    places = [
        (a, str(site), clean_env()),
        (b, str(site), clean_env()),
        (Path("/"), str(site), clean_env()),
        (home, str(site), clean_env(HOME=str(home))),
        (blog, "site", clean_env()),
    ]
    emails, previews = [], []
    for cwd, given, env in places:
        emails.append(_emails(publisher("subscribers", "list", "--site", given, cwd=cwd, env=env)))
        preview = ("digest", "preview", "--format", "eml", "--site", given, "--now", NOW)
        previews.append(ok(publisher(*preview, cwd=cwd, env=env)))

    assert emails == [EXPECTED] * len(places)
    assert len({_token(eml) for eml in previews}) == 1
    assert len(set(previews)) == 1  # the whole message, byte for byte
    # ... signed with the secret generated into the site's state folder, and only there.
    secret = (site / STATE / "secret").read_bytes().strip()
    assert _token(previews[0]) == sign(secret, "unsubscribe", 0)
    for cwd, _, _ in places:
        assert cwd == Path("/") or not (cwd / "var").exists()
        assert not (cwd / STATE).exists()
    for folder, was in before.items():
        assert listing(folder) == was, folder
    assert {p.name for p in blog.iterdir()} == blog_before == {"site"}
    assert {p.name for p in Path("/").iterdir()} - root_before == set()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "blog", "home"]


def test_a_config_elsewhere_keeps_the_state_next_to_it(tmp_path: Path) -> None:
    site = _site(tmp_path / "blog")
    conf = tmp_path / "etc" / "publisher.toml"
    conf.parent.mkdir()
    example = (site / "publisher.toml").read_text(encoding="utf-8")
    conf.write_text(example + '\n[paths]\nvar = "state"\n', encoding="utf-8")
    a, b = _folder(tmp_path, "a"), _folder(tmp_path, "b")
    (a / "subscribers.csv").write_text(CSV, encoding="utf-8")
    before = {folder: listing(folder) for folder in (a, b)}

    # An absolute --config from A, a relative one (relative to the current folder) from B.
    ok(publisher("subscribers", "import", "subscribers.csv", "--site", str(site), "--config",
                 str(conf), cwd=a))  # fmt: skip
    relative = ("--site", str(site), "--config", "../etc/publisher.toml")
    assert _emails(publisher("subscribers", "list", *relative, cwd=b)) == EXPECTED
    preview = ok(publisher("digest", "preview", "--format", "eml", *relative, "--now", NOW, cwd=b))

    state = tmp_path / "etc" / "state"
    assert (state / "publisher.db").is_file()
    secret = (state / "secret").read_bytes().strip()
    assert _token(preview) == sign(secret, "unsubscribe", 0)
    assert not (site / STATE / "publisher.db").exists()
    assert not (site / STATE / "secret").exists()
    for folder, was in before.items():
        assert listing(folder) == was, folder


@pytest.mark.parametrize("where", ["parent", "site"])
def test_old_state_in_var_stops_every_command_that_would_start_anew(
    tmp_path: Path, where: str
) -> None:
    # An earlier version kept its state in ./var: run from the site's parent (--site site)
    # or from inside the site (then Jekyll published it as _site/var/).
    work = tmp_path / "work"
    site = _site(work)
    cwd, given = (work, "site") if where == "parent" else (site, ".")
    old, new = cwd / "var", site / STATE
    (cwd / "subscribers.csv").write_text(CSV, encoding="utf-8")
    legacy = clean_env(PUBLISHER_PATHS__VAR=str(old))
    ok(publisher("subscribers", "import", "subscribers.csv", "--site", given, cwd=cwd, env=legacy))
    preview = ("digest", "preview", "--format", "eml", "--site", given, "--now", NOW)
    old_token = _token(ok(publisher(*preview, cwd=cwd, env=legacy)))
    assert (old / "publisher.db").is_file() and (old / "secret").is_file()
    assert not new.exists()

    def refused(*args: str) -> str:
        before = listing(tmp_path)
        result = publisher(*args, "--site", given, cwd=cwd)
        assert result.returncode == 2, result.stdout + result.stderr
        assert listing(tmp_path) == before  # nothing created, nothing touched
        assert str(old) in result.stderr and str(new) in result.stderr
        assert "Nothing was changed." in result.stderr
        found = re.search(r"\((mv [^)]+)\)", result.stderr)
        assert found, result.stderr
        return found[1]

    assert refused("subscribers", "list") == f"mv {old} {new}"
    refused("digest", "preview", "--format", "eml", "--now", NOW)
    refused("digest", "send", "--now", NOW)

    # The build needs no database: it works, and leaves its cache in the new state folder.
    ok(publisher("build", "--site", given, "--now", NOW, cwd=cwd), 1)
    assert (site / "feeds" / "atom.xml").is_file()
    assert sorted(p.name for p in new.iterdir()) == ["cache"]
    # Still refused; the command it now suggests (the folder exists) moves the state in.
    move = refused("subscribers", "list")
    subprocess.run(move, shell=True, cwd=tmp_path, check=True)
    assert _emails(publisher("subscribers", "list", "--site", given, cwd=cwd)) == EXPECTED
    assert _token(ok(publisher(*preview, cwd=cwd))) == old_token
    assert not (old / "publisher.db").exists()


def test_digest_templates_are_found_from_any_folder(tmp_path: Path) -> None:
    # `[digest] templates = "mail"` is the site's mail/ folder, not the current folder's.
    site = _site(tmp_path / "blog")
    toml = site / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[digest]\n", '[digest]\ntemplates = "mail"\n'),
        encoding="utf-8",
    )
    (site / "mail").mkdir()
    (site / "mail" / "edition.txt.j2").write_text("OUR OWN TEXT {{ subject }}\n", "utf-8")
    b = _folder(tmp_path, "b")
    preview = ("digest", "preview", "--format", "text", "--site", str(site), "--now", NOW)
    for cwd in (site, b, Path("/")):
        assert ok(publisher(*preview, cwd=cwd)).startswith("OUR OWN TEXT Tsumiki Notes"), cwd


def test_file_settings_are_relative_to_the_site_or_their_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = _site(tmp_path / "blog")
    conf = tmp_path / "etc" / "publisher.toml"
    conf.parent.mkdir()
    conf.write_text('[smtp]\nca_file = "relay.pem"\n[digest]\ntemplates = "mail"\n', "utf-8")
    monkeypatch.chdir(_folder(tmp_path, "elsewhere"))
    plain = load_settings(site, environ={})
    assert (plain.smtp.ca_file, plain.digest.templates) == ("", "")  # empty stays "none"
    assert plain.paths.var == str(site / STATE)
    assert plain.paths.output == str(site)
    beside = load_settings(site, conf, environ={})
    assert beside.smtp.ca_file == str(tmp_path / "etc" / "relay.pem")
    assert beside.digest.templates == str(tmp_path / "etc" / "mail")
    assert beside.paths.var == str(site / STATE)  # not set by that file: the site's
    env = load_settings(site, conf, environ={"PUBLISHER_SMTP__CA_FILE": "certs/ca.pem"})
    assert env.smtp.ca_file == str(site / "certs" / "ca.pem")
