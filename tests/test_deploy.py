"""The counter box's and central's systemd units (deploy/systemd) pass `systemd-analyze verify`.

The units name the documented install paths (/opt/sipas/venv, /opt/sipas/bin); systemd-analyze checks that
every command exists and is executable, so the test renders them with this checkout's virtualenv and
deploy/bin, which hold the same programs.
"""

import os
import shutil
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from conftest import IN_CI, ROOT

UNITS = ROOT / "deploy" / "systemd"
BIN = Path(sys.executable).parent


def render(folder: Path, source=UNITS) -> list:
    """The units with the install paths pointed at this checkout; a template gets an instance name."""
    names = []
    for unit in sorted(source.iterdir()):
        name = unit.name.replace("@.", "@8001.")
        text = unit.read_text(encoding="utf-8").replace("/opt/sipas/venv/bin/", f"{BIN}/") \
            .replace("/opt/sipas/bin/", f"{ROOT / 'deploy' / 'bin'}/")
        (folder / name).write_text(text, encoding="utf-8")
        names.append(name)
    return names


def analyze(folder, names):
    return subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=folder, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def systemd_analyze():
    if shutil.which("systemd-analyze") is None:
        if IN_CI:
            pytest.fail("CI=true but systemd-analyze is missing (.ci/run installs systemd)")
        pytest.skip("systemd-analyze is not installed")


def parsed(unit: Path) -> ConfigParser:
    config = ConfigParser(strict=False, interpolation=None)
    config.optionxform = str
    config.read_string(unit.read_text(encoding="utf-8"))
    return config


def test_every_unit_passes_systemd_analyze_verify(systemd_analyze, tmp_path):
    names = render(tmp_path)
    assert {"kiosk.service", "kiosk-sync.service", "kiosk-screen.service", "kiosk-backup.timer",
            "central@8001.service", "central-retention.timer", "central-backup.timer"} <= set(names)
    result = analyze(tmp_path, names)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


def test_a_wrong_unit_fails_the_check(systemd_analyze, tmp_path):
    """The check can fail: a misspelt key, and a command that does not exist."""
    names = render(tmp_path)
    unit = tmp_path / "kiosk.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restartt=on-failure"))
    assert "Unknown key 'Restartt'" in analyze(tmp_path, names).stderr
    unit.write_text(unit.read_text().replace(f"{BIN}/kiosk run", f"{BIN}/no-such-kiosk run"))
    result = analyze(tmp_path, names)
    assert result.returncode != 0 and "no-such-kiosk is not executable" in result.stderr


@pytest.mark.parametrize("name", ["kiosk.service", "kiosk-sync.service", "kiosk-screen.service",
                                  "central@.service"])
def test_long_running_units_restart_and_start_at_boot_with_a_settings_file(name):
    unit = parsed(UNITS / name)
    assert unit["Service"]["Restart"] in ("on-failure", "always")
    assert unit["Install"]["WantedBy"] in ("multi-user.target", "graphical.target")
    assert unit["Service"]["EnvironmentFile"].lstrip("-").startswith("/etc/sipas/")
    assert unit["Service"]["User"] != "root"


def test_each_timer_runs_a_oneshot_service_missed_runs_caught_up():
    timers = sorted(UNITS.glob("*.timer"))
    assert len(timers) == 3
    for timer in timers:
        assert parsed(timer)["Timer"]["Persistent"] == "true"
        assert parsed(timer.with_suffix(".service"))["Service"]["Type"] == "oneshot"


def test_the_screen_waits_for_the_kiosk_then_shows_it_full_screen(live_kiosk, tmp_path):
    """deploy/bin/sipas-kiosk-screen, with a stand-in `cage` that records how it was called."""
    kiosk = live_kiosk()
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "cage").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$CAGE_ARGS"\n')
    (fake / "cage").chmod(0o755)
    script = (ROOT / "deploy" / "bin" / "sipas-kiosk-screen").read_text().replace("/opt/sipas/venv/bin/", f"{BIN}/")
    (tmp_path / "screen").write_text(script)
    env = {**os.environ, "PATH": f"{fake}:/usr/bin:/bin", "KIOSK_URL": kiosk.url + "/",
           "CAGE_ARGS": str(tmp_path / "args"), "CHROMIUM_FLAGS": "--force-device-scale-factor=1.25"}
    result = subprocess.run(["sh", str(tmp_path / "screen")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    args = (tmp_path / "args").read_text().split("\n")
    assert args[:3] == ["-d", "--", "/usr/bin/chromium"]
    assert "--kiosk" in args and "--force-device-scale-factor=1.25" in args and args[-2] == kiosk.url + "/"
