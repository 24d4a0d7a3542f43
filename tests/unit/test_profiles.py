"""Unit tests for reading the profiles file: choosing a profile by name, refusing what ssh would."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import posix_only

from httpie_trulioo.errors import ConfigurationError
from httpie_trulioo.profiles import load_profile, others_may_write


def write(tmp_path: Path, text: str, mode: int = 0o600) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return {"TRULIOO_CONFIG_FILE": str(path)}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize(
    "holds",
    [
        'secret_cmd = "evil"',
        '"secret\\u005fcmd" = "evil"',  # a TOML escape spells it too
        'token_url = "http://127.0.0.1:9999/"\nsecret_env = "AWS_SECRET_ACCESS_KEY"',  # no command at all
        "",
    ],
)
@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_file_others_can_write_is_refused_whatever_it_holds(tmp_path: Path, holds: str, mode: int) -> None:
    environ = write(tmp_path, f'[profiles.other]\n{holds}\n[profiles.p]\nclient_id = "c"\n', mode)
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that others can write (run: chmod go-w '{path}')."
    )
    Path(path).chmod(0o644)
    assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize(("mode", "refused"), [(0o777, True), (0o770, True), (0o1777, False), (0o755, False)])
def test_a_folder_others_can_write_is_refused_unless_its_sticky_bit_keeps_the_file_ours(
    tmp_path: Path, mode: int, refused: bool
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    environ = write(folder, '[profiles.p]\nclient_id = "c"\n')
    folder.chmod(mode)
    if not refused:
        assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}
        return
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{environ['TRULIOO_CONFIG_FILE']}: refusing a profiles file in a folder that others can write "
        f"(run: chmod go-w '{folder}')."
    )


@posix_only("user ids")
def test_a_file_of_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = write(tmp_path, '[profiles.p]\nclient_id = "c"\n', 0o644)
    path = environ["TRULIOO_CONFIG_FILE"]
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # root can give the file away for real
    else:
        monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 1)  # or be someone else
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that others can write ({path} belongs to another user)."
    )


@pytest.mark.parametrize("given", ["config.toml", "./config.toml", "profiles/config.toml", "a~/config.toml"])
def test_a_profiles_file_must_be_named_by_an_absolute_path(tmp_path: Path, given: str) -> None:
    """A relative path follows the current folder: a cloned repository could ship the file."""
    with pytest.raises(ConfigurationError) as caught:
        load_profile({"TRULIOO_CONFIG_FILE": given}, "p", by_name=True)
    assert str(caught.value) == (
        f"TRULIOO_CONFIG_FILE must be an absolute path (or start with ~); it is {given!r}."
    )


def test_a_profiles_file_may_start_with_a_tilde(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, '[profiles.p]\nclient_id = "c"\n')
    assert load_profile({"TRULIOO_CONFIG_FILE": "~/config.toml"}, "p", by_name=True) == {"client_id": "c"}


def test_a_profile_chosen_by_name_beats_trulioo_profile(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.p]\nscope = "a"\n[profiles.q]\nscope = "b"\n')
    environ["TRULIOO_PROFILE"] = "q"
    assert load_profile(environ) == {"scope": "b"}
    assert load_profile(environ, "p", by_name=True) == {"scope": "a"}


def test_unknown_profile_names_are_one_line_naming_the_file(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.dev]\nscope = "a"\n[profiles.bare]\n')
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prod", by_name=True)
    assert str(caught.value) == f"{path}: no profile named 'prod'; profiles: bare, dev."
    environ["TRULIOO_CONFIG_FILE"] = str(tmp_path / "absent.toml")
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prod", by_name=True)
    assert str(caught.value) == f"{tmp_path / 'absent.toml'}: no such file, so no profile 'prod'."


def test_who_may_have_written_a_file_is_judged_as_ssh_does(tmp_path: Path) -> None:
    mine = tmp_path / "config.toml"
    mine.write_text("")
    for mode, others in [(0o600, False), (0o644, False), (0o620, True), (0o602, True)]:
        mine.chmod(mode)
        assert others_may_write(mine.stat()) is others, oct(mode)
    assert others_may_write(SimpleNamespace(st_uid=os.getuid() + 1, st_mode=0o600))
    assert not others_may_write(SimpleNamespace(st_uid=0, st_mode=0o644))  # root's


def test_without_user_ids_who_may_write_is_left_to_the_folder_acl(without_posix_calls: Path) -> None:
    assert not others_may_write(SimpleNamespace(st_uid=12345, st_mode=0o666))


def test_a_misspelled_profile_name_gets_a_suggestion(tmp_path: Path) -> None:
    environ = write(tmp_path, '[profiles.prod]\nscope = "a"\n[profiles.dev]\n')
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "prd", by_name=True)
    assert str(caught.value) == (
        f"{environ['TRULIOO_CONFIG_FILE']}: no profile named 'prd'; did you mean 'prod'? profiles: dev, prod."
    )


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            '# QA\n[profile.qa]\nclient_id = "c"\n',
            2,
            "[profile.qa] is not read: profiles are tables named [profiles.qa].",
        ),
        (
            '[profiles.p]\nscope = "a"\n\n[profils.q]\nscope = "b"\n',
            4,
            "'profils' is not read: every profile",
        ),
        ('token_url = "https://x.example/t"\n[profiles.p]\n', 1, "'token_url' is not read: every profile"),
    ],
)
def test_what_the_file_holds_outside_profiles_is_refused_not_ignored(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    """A [profile.qa] table (singular) was silently ignored, and the call went on without it."""
    environ = write(tmp_path, text + "[profiles.p]\n" * ("[profiles.p]" not in text))
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value).startswith(f"{environ['TRULIOO_CONFIG_FILE']}:{line}: {says}")
