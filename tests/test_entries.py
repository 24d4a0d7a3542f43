"""The default cache folder and profiles file, worked out without importing platformdirs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs
import pytest

from httpie_trulioo.entries import APP_NAME, cache_folder
from httpie_trulioo.profiles import config_file

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the folder is worked out on Linux only")


@linux_only
@pytest.mark.parametrize("xdg", [None, "", "   ", "absolute"])
def test_the_default_cache_folder_is_platformdirs_folder(
    xdg: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg") if xdg == "absolute" else xdg)
    expected = platformdirs.user_cache_dir(APP_NAME, appauthor=False)
    assert cache_folder(None) == expected
    assert expected.startswith(str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config") if xdg == "absolute" else xdg)
    monkeypatch.delenv("TRULIOO_CONFIG_FILE", raising=False)
    folder = platformdirs.user_config_dir(APP_NAME, appauthor=False)
    assert config_file(dict(os.environ)) == os.path.join(folder, "config.toml")


@linux_only
@pytest.mark.parametrize("home", [None, "", "relative/home"])
def test_without_an_absolute_home_platformdirs_says(
    home: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """platformdirs then finds the home folder in the password database; so does the plugin."""
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)
    assert cache_folder(None) == platformdirs.user_cache_dir(APP_NAME, appauthor=False)


@linux_only
def test_a_relative_xdg_cache_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The XDG base directory rule: a relative path is invalid, so the default applies."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert cache_folder(None) == os.path.join(tmp_path, ".cache", APP_NAME)


def test_elsewhere_platformdirs_says(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name, appauthor: f"/from-platformdirs/{name}")
    assert cache_folder(None) == f"/from-platformdirs/{APP_NAME}"


def test_a_configured_folder_wins() -> None:
    assert cache_folder("/somewhere/else") == "/somewhere/else"
