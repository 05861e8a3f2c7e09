//! The `probe` binary: everything is in the library; see `cli`.

fn main() -> std::process::ExitCode {
    support_probe::cli::main()
}
