//! Running the `probe` binary: one command builder with the environment
//! that could point it elsewhere removed, one runner for commands that
//! exit ([`probe`]), and one spawner for the daemon ([`Daemon`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support_probe::model::ProbeRecord;
use support_probe::store::{Mode, Store};

/// The crate root: the binary runs there, so fixture paths relative to it work.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `probe --config CONFIG [--state-dir STATE]` in the crate root, without
/// the variables of the caller's environment (or of a systemd service) that
/// would change its config, state directory, logging or notifications.
pub fn command(config: &Path, state: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_probe"));
    cmd.current_dir(root())
        .env_remove("PROBE_CONFIG")
        .env_remove("PROBE_STATE_DIR")
        .env_remove("STATE_DIRECTORY")
        .env_remove("PROBE_LOG")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .arg("--config")
        .arg(config);
    if let Some(state) = state {
        cmd.arg("--state-dir").arg(state);
    }
    cmd
}

/// What one run of the binary produced.
pub struct Out {
    pub status: ExitStatus,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Runs `cmd` to its end, stdin closed.
    pub fn of(cmd: &mut Command) -> Out {
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .expect("the probe binary runs");
        Out {
            status: out.status,
            code: out
                .status
                .code()
                .expect("the probe binary exited, not killed"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self:?}"))
    }

    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self:?}");
        self
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `probe --config CONFIG --state-dir STATE ARGS...` in the crate root.
pub fn probe(config: &Path, state: &Path, args: &[&str]) -> Out {
    probe_env(config, state, args, &[])
}

/// [`probe`] for the commands that need no config (`status`, `review`,
/// `show`, ...): the config named is a file that does not exist.
pub fn probe_without_config(state: &Path, args: &[&str]) -> Out {
    probe(&state.join("no-config.toml"), state, args)
}

/// [`probe`] with variables set in its environment.
pub fn probe_env(config: &Path, state: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    Out::of(
        command(config, Some(state))
            .args(args)
            .envs(env.iter().copied()),
    )
}

/// A running `probe -v daemon`, its stderr in a log file; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    /// Starts `probe -v daemon` with `env` set, its stderr to `log`.
    pub fn start(config: &Path, state: &Path, log: &Path, env: &[(&str, &str)]) -> Daemon {
        let mut cmd = command(config, Some(state));
        cmd.arg("-v").arg("daemon");
        Daemon::spawn(cmd.envs(env.iter().copied()), log)
    }

    /// Spawns `cmd` (a daemon command line) with stdin and stdout closed and stderr to `log`.
    pub fn spawn(cmd: &mut Command, log: &Path) -> Daemon {
        let file = std::fs::File::create(log).unwrap();
        Daemon {
            child: cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(file)
                .spawn()
                .unwrap(),
            log: log.to_path_buf(),
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()
    }

    pub fn wait(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait()
    }

    /// Sends signal `sig` (`TERM`, `HUP`, ...) with kill(1).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (up to a minute) until the log says `needle`.
    pub fn wait_log(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.log();
            if text.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon never logged {needle:?}; log:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM; it must exit 0 within 30 s. Returns the log.
    pub fn stop(mut self) -> String {
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = self.log();
                assert!(status.success(), "graceful stop exits 0: {status:?}\n{log}");
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop on SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every probe record in the store under `state` (opened shared, next to a daemon).
pub fn probes(state: &Path) -> Vec<ProbeRecord> {
    Store::open(state, Mode::Shared).unwrap().all().unwrap()
}

/// Polls the store until `pred` holds (the daemon writes it), or fails
/// after `patience` with the probes and the daemon's log.
pub fn wait_until(
    state: &Path,
    daemon: &Daemon,
    what: &str,
    patience: Duration,
    pred: impl Fn(&[ProbeRecord]) -> bool,
) -> Vec<ProbeRecord> {
    let deadline = Instant::now() + patience;
    loop {
        let all = probes(state);
        if pred(&all) {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; probes: {all:#?}\ndaemon log:\n{}",
            daemon.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
