"""Unit tests for reading the profiles file: choosing a profile by name, refusing what ssh would."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import posix_only

from httpie_trulioo.errors import ConfigurationError
from httpie_trulioo.profiles import load_profile


def write(tmp_path: Path, text: str, mode: int = 0o600) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(mode)
    return {"TRULIOO_CONFIG_FILE": str(path)}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
@pytest.mark.parametrize("key", ["secret_cmd", '"secret\\u005fcmd"'])  # a TOML escape spells it too
@pytest.mark.parametrize("mode", [0o620, 0o602])
def test_a_file_others_can_write_is_refused_if_it_names_a_secret_cmd(
    tmp_path: Path, key: str, mode: int
) -> None:
    environ = write(tmp_path, f'[profiles.other]\n{key} = "evil"\n[profiles.p]\nclient_id = "c"\n', mode)
    path = environ["TRULIOO_CONFIG_FILE"]
    with pytest.raises(ConfigurationError) as caught:
        load_profile(environ, "p", by_name=True)
    assert str(caught.value) == (
        f"{path}: refusing a profiles file that names a secret_cmd and that others can write "
        f"(run: chmod go-w '{path}')."
    )
    Path(path).chmod(0o644)
    assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}


@posix_only("mode bits; on Windows the folder's ACL decides who may write")
def test_a_file_others_can_write_is_read_if_it_names_no_command(tmp_path: Path) -> None:
    environ = write(tmp_path, '# secret_cmd is not used here\n[profiles.p]\nclient_id = "c"\n', 0o666)
    assert load_profile(environ, "p", by_name=True) == {"client_id": "c"}


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
