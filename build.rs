//! Build script: embeds every phrase file under `data/lang/` and the helpdesk
//! fingerprints of `data/helpdesks.toml` in the binary, so that adding a
//! language is adding one file (no list to keep in the code).

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new("data/lang");
    println!("cargo:rerun-if-changed=data/lang");
    let mut files: Vec<_> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from(
        "/// Every `data/lang/*.toml` file: its name and its text.\npub(crate) static LANG_FILES: &[(&str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let abs = fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
    }
    out.push_str("];\n");
    // The helpdesk fingerprints, empty when the file is missing (the
    // registry's test then fails with a clear message).
    let helpdesks = Path::new("data/helpdesks.toml");
    println!("cargo:rerun-if-changed=data/helpdesks.toml");
    let mut hd = String::new();
    match fs::canonicalize(helpdesks) {
        Ok(abs) => hd.push_str(&format!(
            "/// `data/helpdesks.toml`.\npub(crate) static HELPDESKS_TOML: &str = include_str!({:?});\n",
            abs.display().to_string()
        )),
        Err(_) => hd.push_str("/// `data/helpdesks.toml` (missing).\npub(crate) static HELPDESKS_TOML: &str = \"\";\n"),
    }
    let out_dir = env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    for (name, text) in [("lang_files.rs", out), ("helpdesks_file.rs", hd)] {
        let dest = Path::new(&out_dir).join(name);
        if let Err(e) = fs::write(&dest, text) {
            println!("cargo:warning=cannot write {}: {e}", dest.display());
            std::process::exit(1);
        }
    }
}
