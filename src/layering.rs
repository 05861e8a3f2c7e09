//! The module layering, kept true by a test that reads the sources.
//!
//! [`LAYERS`] lists the top-level modules from the bottom up: a module may
//! name (`crate::x`) only modules listed before it. Inside a module, the
//! submodules that name each other (`super::x`, `crate::m::x`) must not form
//! a cycle. Test code (`tests.rs` files, `#[cfg(test)] mod` blocks, the
//! unit tests' `testkit`) and comments are not read: a test may reach up to
//! check a whole path.
//!
//! When the test fails, move the shared piece down (to the lower module or a
//! leaf) or pass it in through a trait the higher module implements, as
//! `metrics::Liveness` does for the daemon's health; do not reorder
//! [`LAYERS`] to make it pass unless the new order is the design.

/// Top-level modules, lowest first. ARCHITECTURE.md shows the same order.
pub const LAYERS: [&str; 18] = [
    // Leaves: nothing from the crate.
    "clock", "model", "duration", "table", // Storage, time and reading messages.
    "store", "schedule", "classify", // Reply evidence; the config.
    "quality", "config", // Talking to vendors, then running probes.
    "channel", "engine", // Figures, and what shows them.
    "report", "view", "digest", "metrics", // The service and the binary.
    "daemon", "demo", "cli",
];

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::LAYERS;

    /// A module path, e.g. `["classify", "wording"]`.
    type ModPath = Vec<String>;

    fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rs_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    fn module_of(src: &Path, file: &Path) -> ModPath {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let mut parts: ModPath = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|l| l == "mod") {
            parts.pop();
        }
        parts
    }

    /// The text without comments and without `#[cfg(test)] mod … { … }` blocks.
    fn code_of(text: &str) -> String {
        let no_comments: String = text
            .lines()
            .map(|l| match l.find("//") {
                Some(i) if !l[..i].contains('"') => &l[..i],
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = String::new();
        let mut rest = no_comments.as_str();
        while let Some(i) = rest.find("#[cfg(test)]") {
            out.push_str(&rest[..i]);
            let after = rest[i + "#[cfg(test)]".len()..].trim_start();
            let block = after
                .find('{')
                .filter(|b| after.find(';').is_none_or(|s| *b < s));
            if let (true, Some(start)) = (after.starts_with("mod "), block) {
                // Skip the block by brace depth.
                let mut depth = 0usize;
                let mut end = after.len();
                for (j, c) in after[start..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = start + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                rest = &after[end..];
            } else {
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    /// Every path named after `crate::` or `super::` (groups expanded), as
    /// absolute module paths (items included; callers cut them to modules).
    fn named_paths(code: &str, module: &ModPath) -> Vec<ModPath> {
        let mut out = Vec::new();
        let bytes = code.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let mut i = 0;
        while i < bytes.len() {
            let at_word = i == 0 || !ident(bytes[i - 1]);
            let base = if at_word && bytes[i..].starts_with(b"crate::") {
                i += "crate::".len();
                Some(Vec::new())
            } else if at_word && bytes[i..].starts_with(b"super::") {
                // `super` of a module is its parent (for `mod.rs`, the
                // directory module's parent: the same rule).
                let mut base = module.clone();
                base.pop();
                i += "super::".len();
                while bytes[i..].starts_with(b"super::") {
                    base.pop();
                    i += "super::".len();
                }
                Some(base)
            } else {
                None
            };
            match base {
                Some(base) => {
                    let (paths, next) = tree(code, i, &base);
                    out.extend(paths);
                    i = next.max(i + 1);
                }
                None => i += 1,
            }
        }
        out
    }

    /// Parses a use tree at `i` (`a::b::C`, `a::{b, c::D}`), prefixed by `base`.
    fn tree(code: &str, mut i: usize, base: &[String]) -> (Vec<ModPath>, usize) {
        let bytes = code.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        let mut path = base.to_vec();
        loop {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && bytes[i] == b'{' {
                let mut out = Vec::new();
                i += 1;
                loop {
                    while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                        i += 1;
                    }
                    if i >= bytes.len() || bytes[i] == b'}' {
                        return (out, i + 1);
                    }
                    let (sub, next) = tree(code, i, &path);
                    out.extend(sub);
                    // Skip `as name` and anything else up to `,` or `}`.
                    i = next;
                    while i < bytes.len() && bytes[i] != b',' && bytes[i] != b'}' {
                        i += 1;
                    }
                }
            }
            let start = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            if i == start {
                return (vec![path], i);
            }
            path.push(code[start..i].to_string());
            if bytes[i..].starts_with(b"::") {
                i += 2;
            } else {
                return (vec![path], i);
            }
        }
    }

    struct Graph {
        modules: BTreeSet<ModPath>,
        /// (from module, to module, file) for every reference.
        edges: Vec<(ModPath, ModPath, String)>,
    }

    fn graph() -> Graph {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rs_files(&src, &mut files);
        files.sort();
        let modules: BTreeSet<ModPath> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges = Vec::new();
        for file in &files {
            let module = module_of(&src, file);
            if module.iter().any(|m| m == "tests") || module.len() == 1 && module[0] == "main" {
                continue;
            }
            let code = code_of(&std::fs::read_to_string(file).unwrap());
            for named in named_paths(&code, &module) {
                // The longest prefix that is a module.
                let target = (1..=named.len())
                    .rev()
                    .map(|k| named[..k].to_vec())
                    .find(|p| modules.contains(p));
                if let Some(target) = target {
                    let rel = file.strip_prefix(&src).unwrap().display().to_string();
                    edges.push((module.clone(), target, rel));
                }
            }
        }
        Graph { modules, edges }
    }

    #[test]
    fn every_top_level_module_is_in_the_layers_once() {
        let g = graph();
        let top: BTreeSet<&str> = g
            .modules
            .iter()
            .filter(|m| m.len() == 1)
            .filter(|m| !["lib", "main", "layering", "testkit"].contains(&m[0].as_str()))
            .map(|m| m[0].as_str())
            .collect();
        let listed: BTreeSet<&str> = LAYERS.iter().copied().collect();
        assert_eq!(listed.len(), LAYERS.len(), "a module is listed twice");
        assert_eq!(top, listed, "src/ and LAYERS name different modules");
    }

    #[test]
    fn no_module_imports_a_module_above_it() {
        let g = graph();
        let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
        let mut upward = BTreeSet::new();
        for (from, to, file) in &g.edges {
            let (Some(a), Some(b)) = (rank(&from[0]), rank(&to[0])) else {
                continue;
            };
            if b > a {
                upward.insert(format!("{file}: {} imports {} (above it)", from[0], to[0]));
            }
        }
        assert!(upward.is_empty(), "upward imports:\n{}", {
            let v: Vec<String> = upward.into_iter().collect();
            v.join("\n")
        });
    }

    #[test]
    fn sibling_submodules_do_not_import_each_other_in_a_cycle() {
        let g = graph();
        // parent -> (child -> children it names)
        let mut siblings: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
        for (from, to, _) in &g.edges {
            let k = from.iter().zip(to).take_while(|(a, b)| a == b).count();
            if k == from.len() || k == to.len() || k == 0 {
                continue; // an ancestor, a descendant, or across the top level
            }
            siblings
                .entry(from[..k].to_vec())
                .or_default()
                .entry(from[k].clone())
                .or_default()
                .insert(to[k].clone());
        }
        let mut cycles = Vec::new();
        for (parent, graph) in &siblings {
            if let Some(cycle) = find_cycle(graph) {
                cycles.push(format!("{}: {}", parent.join("::"), cycle.join(" -> ")));
            }
        }
        assert!(
            cycles.is_empty(),
            "cycles between submodules:\n{}",
            cycles.join("\n")
        );
    }

    /// A cycle in `graph`, as the nodes along it (first repeated at the end).
    fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
        fn visit(
            n: &str,
            graph: &BTreeMap<String, BTreeSet<String>>,
            stack: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(i) = stack.iter().position(|s| s == n) {
                let mut cycle = stack[i..].to_vec();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            if done.contains(n) {
                return None;
            }
            stack.push(n.to_string());
            for next in graph.get(n).into_iter().flatten() {
                if let Some(c) = visit(next, graph, stack, done) {
                    return Some(c);
                }
            }
            stack.pop();
            done.insert(n.to_string());
            None
        }
        let mut done = BTreeSet::new();
        graph
            .keys()
            .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
    }

    #[test]
    fn the_reader_sees_groups_super_and_skips_tests_and_comments() {
        let module = vec!["classify".to_string(), "wording".to_string()];
        let code = code_of(
            "use crate::{model::X, report::{km, own::O as P}};\n\
             // use crate::daemon::Nope;\n\
             use super::super::cli::Y;\n\
             fn f() { super::autoreply::g(); }\n\
             #[cfg(test)]\nmod tests { use crate::metrics::Z; }\n",
        );
        let named = named_paths(&code, &module);
        let firsts: BTreeSet<String> = named.iter().map(|p| p.join("::")).collect();
        let want: BTreeSet<String> = [
            "model::X",
            "report::km",
            "report::own::O",
            "cli::Y",
            "classify::autoreply::g",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(firsts, want);
    }

    #[test]
    fn a_cycle_is_found_and_a_chain_is_not() {
        let g = |pairs: &[(&str, &str)]| {
            let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for (a, b) in pairs {
                m.entry((*a).into()).or_default().insert((*b).into());
            }
            m
        };
        assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c")])), None);
        assert_eq!(
            find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
            Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
        );
    }
}
