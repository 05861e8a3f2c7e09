//! The shipped unit file, checked by systemd's own tools: `systemd-analyze
//! verify` (syntax, known keys, executables) and `systemd-analyze security
//! --offline=true` (the exposure score, which must stay in the "OK" band
//! or better, at or below [`MAX_EXPOSURE`]).
//!
//! verify also reports on every unit installed on the machine (Debian's
//! `request-tracker5.service`, installed for `tests/it/rt_helpdesk.rs`, draws
//! warnings of its own): only what it says about our unit is judged, and a
//! test with a deliberate mistake in our unit shows that is still caught.
//!
//! `scripts/test` installs the `systemd` package when `systemd-analyze` is
//! missing; a bare `cargo test` on a machine without it reports the check
//! as not run (it cannot be done there) rather than passing silently.

use std::path::Path;
use std::process::Command;

/// The score docs/operations.md reports, with a little headroom for systemd
/// versions that weigh settings differently; "OK" ends at 4.9.
const MAX_EXPOSURE: f64 = 2.0;

const UNIT: &str = include_str!("../../systemd/support-probe.service");

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
    if let Err(problem) = judge_verify(out.status.success(), &stderr) {
        panic!("{problem}");
    }
}

/// What `systemd-analyze verify` said, judged for our unit only. verify also loads every unit
/// installed on the machine and warns about their mistakes (Debian's request-tracker5.service,
/// which scripts/test installs for tests/it/rt_helpdesk.rs, names database and web server units
/// that do not exist), so lines about other units are set aside; the rest is ours.
fn judge_verify(success: bool, stderr: &str) -> Result<(), String> {
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty() && !about_another_unit(l))
        .collect();
    let ours = ours.join("\n");
    // A failure is ours unless every line verify printed is about another unit.
    if !success && (stderr.trim().is_empty() || !ours.is_empty()) {
        return Err(format!("verify failed:\n{stderr}"));
    }
    // Unknown keys are only warnings to verify; they are mistakes here.
    if ours.contains("Unknown key") || ours.contains("ignoring") {
        return Err(format!("verify warned about our unit:\n{stderr}"));
    }
    if !success {
        eprintln!("verify failed, but only because of other units:\n{stderr}");
    }
    Ok(())
}

#[test]
fn a_mistake_in_our_unit_still_fails_next_to_other_units_warnings() {
    let rt = "/lib/systemd/system/request-tracker5.service:8: Failed to add dependency on mysql, \
              ignoring: Invalid argument\n";
    assert_eq!(judge_verify(true, rt), Ok(()));
    assert_eq!(judge_verify(false, rt), Ok(()));
    assert_eq!(judge_verify(true, ""), Ok(()));
    assert!(judge_verify(false, "").is_err());
    let bogus = format!(
        "/tmp/x/support-probe.service:30: Unknown key 'BogusKey' in section [Service], ignoring.\n{rt}"
    );
    assert!(judge_verify(true, &bogus).is_err());
    let missing = format!(
        "{rt}support-probe.service: Command /usr/local/bin/probe is not executable: No such file or directory\n"
    );
    assert!(judge_verify(false, &missing).is_err());
}

#[test]
fn verify_still_catches_an_unknown_key_in_our_unit() {
    if !analyze_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_copy(dir.path());
    let text =
        std::fs::read_to_string(&unit)
            .unwrap()
            .replacen("[Service]", "[Service]\nBogusKey=1", 1);
    std::fs::write(&unit, text).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        judge_verify(out.status.success(), &stderr).is_err(),
        "{stderr}"
    );
}

/// True when a line of `systemd-analyze verify` is about another unit file: it starts with
/// that unit's path or name (`/lib/systemd/system/x.service:8: ...`, `x.service: ...`).
fn about_another_unit(line: &str) -> bool {
    let Some((subject, _)) = line.split_once(':') else {
        return false;
    };
    let name = subject.rsplit('/').next().unwrap_or(subject);
    let is_unit = [
        ".service",
        ".socket",
        ".target",
        ".timer",
        ".mount",
        ".path",
        ".slice",
        ".device",
        ".swap",
        ".scope",
        ".automount",
    ]
    .iter()
    .any(|suffix| name.ends_with(suffix));
    is_unit && name != "support-probe.service"
}

#[test]
fn only_lines_about_other_units_are_set_aside() {
    assert!(about_another_unit(
        "/lib/systemd/system/request-tracker5.service:8: Failed to add dependency on mysql, ignoring: Invalid argument"
    ));
    assert!(!about_another_unit(
        "/tmp/x/support-probe.service:30: Unknown key 'BogusKey' in section [Service], ignoring."
    ));
    assert!(!about_another_unit(
        "support-probe.service: Command /usr/local/bin/probe is not executable: No such file or directory"
    ));
    assert!(!about_another_unit(
        "Failed to load something: Invalid argument"
    ));
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
