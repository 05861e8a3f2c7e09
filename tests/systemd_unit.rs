//! The shipped unit file, checked by systemd's own tools: `systemd-analyze
//! verify` (syntax, known keys, executables) and `systemd-analyze security
//! --offline=true` (the exposure score, which must stay in the "OK" band
//! or better, at or below [`MAX_EXPOSURE`]).
//!
//! `scripts/test` installs the `systemd` package when `systemd-analyze` is
//! missing; a bare `cargo test` on a machine without it reports the check
//! as not run (it cannot be done there) rather than passing silently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The score README.md reports, with a little headroom for systemd
/// versions that weigh settings differently; "OK" ends at 4.9.
const MAX_EXPOSURE: f64 = 2.0;

const UNIT: &str = include_str!("../systemd/support-probe.service");

fn analyze_available() -> bool {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("SUPPORT_PROBE_MAILSTACK").is_none(),
            "scripts/test should have installed systemd-analyze (package systemd)"
        );
        eprintln!("systemd-analyze is not installed: the unit file was NOT checked");
    }
    found
}

/// The unit with its ExecStart= pointing at the binary under test (verify
/// checks that the executable exists).
fn unit_copy(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("support-probe.service");
    let text = UNIT.replace("/usr/local/bin/probe", env!("CARGO_BIN_EXE_probe"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    if !analyze_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path());
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify failed:\n{stderr}");
    // Unknown keys are only warnings to verify; they are mistakes here.
    assert!(!stderr.contains("Unknown key"), "{stderr}");
    assert!(!stderr.contains("ignoring"), "{stderr}");
}

#[test]
fn the_security_exposure_stays_in_the_ok_band() {
    if !analyze_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path());
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .env("SYSTEMD_COLORS", "0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| {
            panic!(
                "no score in:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let rest = line.rsplit(':').next().unwrap().trim();
    let mut words = rest.split_whitespace();
    let score: f64 = words.next().unwrap().parse().unwrap();
    let band = words.next().unwrap();
    assert!(
        ["OK", "SAFE", "PERFECT"].contains(&band),
        "exposure band {band} ({score}):\n{stdout}"
    );
    assert!(
        score <= MAX_EXPOSURE,
        "exposure {score} > {MAX_EXPOSURE}:\n{stdout}"
    );
    // The settings the service relies on are there.
    for key in [
        "Type=notify",
        "WatchdogSec=",
        "ExecReload=",
        "Restart=on-failure",
        "DynamicUser=yes",
        "StateDirectory=support-probe",
        "ConfigurationDirectory=support-probe",
        "LoadCredential",
        "MemoryDenyWriteExecute=yes",
        "SystemCallFilter=@system-service",
    ] {
        assert!(UNIT.contains(key), "{key} missing from the unit");
    }
}
