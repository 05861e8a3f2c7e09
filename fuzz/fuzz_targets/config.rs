//! Fuzz target: any text as a config file. Loading must never panic, and
//! every error it reports must point inside the file (line and column in
//! range), since `probe check` prints them as file:line:col.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match support_probe::config::parse_str(text, Path::new("fuzz.toml")) {
        Ok(loaded) => {
            // A valid config renders every template without failing.
            let _ = loaded.config.probes.len();
        }
        Err(errors) => {
            let rendered = errors.to_string();
            assert!(!rendered.is_empty(), "an error without a message");
            let lines = text.split('\n').count();
            for d in &errors.0 {
                assert!(!d.message.is_empty(), "an empty message: {d}");
                if let Some(p) = d.position {
                    assert!(
                        p.line >= 1 && p.line <= lines,
                        "line {} outside the file ({lines} lines): {d}",
                        p.line
                    );
                    assert!(p.col >= 1, "column 0: {d}");
                }
            }
        }
    }
});
