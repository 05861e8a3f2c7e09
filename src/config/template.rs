//! Subject and body templates: `{token}`-style placeholders, `{{` and `}}`
//! for literal braces.
//!
//! Templates are checked when the config is loaded ([`check`]), so
//! [`render`] never fails: anything it does not understand is copied as is.
//!
//! `{detail}` is the one conditional placeholder: a template may use it only
//! when its probe has a `details` list to draw it from.

/// The placeholder that needs the probe's `details`.
pub const DETAIL: &str = "detail";

/// Every placeholder a template may use (`{detail}` only in a probe with
/// `details`).
pub const PLACEHOLDERS: [&str; 9] = [
    "vendor",
    "probe",
    "probe_id",
    "token",
    "local_time",
    "zone",
    "priority",
    "persona",
    DETAIL,
];

/// The values substituted into a template.
#[derive(Debug, Clone, Copy, Default)]
pub struct TemplateVars<'a> {
    /// `{vendor}`: the vendor's name.
    pub vendor: &'a str,
    /// `{probe}`: the `[[probe]]` name.
    pub probe: &'a str,
    /// `{probe_id}`: the probe record's id.
    pub probe_id: &'a str,
    /// `{token}`: the short matching token.
    pub token: &'a str,
    /// `{local_time}`: the fire time in the schedule's zone.
    pub local_time: &'a str,
    /// `{zone}`: the IANA name of the schedule's zone.
    pub zone: &'a str,
    /// `{priority}`: the probe's priority label; empty when it has none.
    pub priority: Option<&'a str>,
    /// `{persona}`: the persona's display name.
    pub persona: &'a str,
    /// `{detail}`: the detail drawn for this probe (`ProbeRecord::detail`);
    /// empty when it has none.
    pub detail: Option<&'a str>,
}

impl TemplateVars<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "vendor" => self.vendor,
            "probe" => self.probe,
            "probe_id" => self.probe_id,
            "token" => self.token,
            "local_time" => self.local_time,
            "zone" => self.zone,
            "priority" => self.priority.unwrap_or(""),
            "persona" => self.persona,
            DETAIL => self.detail.unwrap_or(""),
            _ => return None,
        })
    }
}

/// A mistake in a template, found by [`check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// Byte offset of the mistake in the template.
    pub offset: usize,
    /// The offending text, e.g. `{tokn}` or `{`.
    pub fragment: String,
    /// What is wrong.
    pub message: String,
}

/// Replaces the placeholders of `template` with `vars`. `{{` and `}}`
/// become single braces; text that is not a known placeholder is kept.
pub fn render(template: &str, vars: &TemplateVars<'_>) -> String {
    substitute(template, Names::Identifier, |name| vars.get(name))
}

/// What may stand between the braces of a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Names {
    /// A non-empty identifier (`[A-Za-z0-9_]+`): subject and body templates.
    Identifier,
    /// Anything up to the next `}`: the API spec's templates, whose
    /// variables are the persona's `params` keys, written freely.
    Anything,
}

/// Replaces each placeholder of `template` whose name `value` knows; `{{`
/// and `}}` become single braces; everything else is copied as it is.
pub(crate) fn substitute<'v>(
    template: &str,
    names: Names,
    value: impl Fn(&str) -> Option<&'v str>,
) -> String {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template, names) {
        match piece {
            Piece::Text(t) | Piece::Stray { text: t, .. } => out.push_str(t),
            Piece::Placeholder { name, .. } => match value(name) {
                Some(value) => out.push_str(value),
                None => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// The placeholder names of `template`, in order, as [`substitute`] reads them.
pub(crate) fn placeholder_names(template: &str, names: Names) -> Vec<&str> {
    pieces(template, names)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder { name, .. } => Some(name),
            _ => None,
        })
        .collect()
}

/// Lists every unknown placeholder and unescaped brace in `template`;
/// `{detail}` is a mistake unless `has_details` (its probe has `details`).
pub fn check(template: &str, has_details: bool) -> Vec<TemplateProblem> {
    pieces(template, Names::Identifier)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Text(_) => None,
            Piece::Placeholder {
                name: DETAIL,
                start,
            } if !has_details => Some(TemplateProblem {
                offset: start,
                fragment: format!("{{{DETAIL}}}"),
                message: format!(
                    "placeholder `{{{DETAIL}}}` needs a `details` list in this probe to draw from"
                ),
            }),
            Piece::Placeholder { name, start } if !PLACEHOLDERS.contains(&name) => {
                let fragment = format!("{{{name}}}");
                let known: Vec<String> = PLACEHOLDERS
                    .iter()
                    .filter(|&&p| has_details || p != DETAIL)
                    .map(|p| format!("{{{p}}}"))
                    .collect();
                Some(TemplateProblem {
                    offset: start,
                    message: format!(
                        "unknown placeholder `{fragment}`, expected one of {}",
                        known.join(", ")
                    ),
                    fragment,
                })
            }
            Piece::Placeholder { .. } => None,
            Piece::Stray { text, start } => Some(TemplateProblem {
                offset: start,
                fragment: text.to_string(),
                message: format!("unescaped `{text}`, write `{text}{text}` for a literal brace"),
            }),
        })
        .collect()
}

/// One lexical piece of a template.
enum Piece<'a> {
    /// Literal text (an escaped brace is a one-character text).
    Text(&'a str),
    /// `{name}` where `name` looks like an identifier.
    Placeholder { name: &'a str, start: usize },
    /// A lone `{` or `}`.
    Stray { text: &'a str, start: usize },
}

fn pieces(template: &str, names: Names) -> Vec<Piece<'_>> {
    let bytes = template.as_bytes();
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (piece, next) = match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => (Piece::Text(&template[i..=i]), i + 2),
            (b'{', _) => match placeholder_end(bytes, i, names) {
                Some(end) => (
                    Piece::Placeholder {
                        name: &template[i + 1..end],
                        start: i,
                    },
                    end + 1,
                ),
                None => (stray(template, i), i + 1),
            },
            (b'}', _) => (stray(template, i), i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        if text_start < i {
            out.push(Piece::Text(&template[text_start..i]));
        }
        out.push(piece);
        i = next;
        text_start = next;
    }
    if text_start < bytes.len() {
        out.push(Piece::Text(&template[text_start..]));
    }
    out
}

fn stray(template: &str, at: usize) -> Piece<'_> {
    Piece::Stray {
        text: &template[at..=at],
        start: at,
    }
}

/// The index of the `}` closing a placeholder opened at `open`, if the text
/// between is a name of the kind `names` allows.
fn placeholder_end(bytes: &[u8], open: usize, names: Names) -> Option<usize> {
    let rest = bytes.get(open + 1..)?;
    match names {
        Names::Identifier => {
            let name_len = rest
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let end = open + 1 + name_len;
            (name_len > 0 && bytes.get(end) == Some(&b'}')).then_some(end)
        }
        Names::Anything => rest.iter().position(|&b| b == b'}').map(|n| open + 1 + n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> TemplateVars<'static> {
        TemplateVars {
            vendor: "acme-cdn",
            probe: "acme-nightly",
            probe_id: "01JD0000000000000000000000",
            token: "SP-1234567890",
            local_time: "2026-11-02 02:30 CET",
            zone: "Europe/Berlin",
            priority: Some("P1"),
            persona: "Dana Probe",
            detail: Some("edge node sg-3"),
        }
    }

    #[test]
    fn every_placeholder_is_substituted() {
        let t = "{vendor}|{probe}|{probe_id}|{token}|{local_time}|{zone}|{priority}|{persona}|\
                 {detail}";
        assert_eq!(
            render(t, &vars()),
            "acme-cdn|acme-nightly|01JD0000000000000000000000|SP-1234567890|\
             2026-11-02 02:30 CET|Europe/Berlin|P1|Dana Probe|edge node sg-3"
        );
        assert!(check(t, true).is_empty());
    }

    #[test]
    fn doubled_braces_are_literal() {
        let t = "{{token}} is {token}, json: {{\"a\": 1}}";
        assert!(check(t, false).is_empty());
        assert_eq!(
            render(t, &vars()),
            "{token} is SP-1234567890, json: {\"a\": 1}"
        );
    }

    #[test]
    fn missing_priority_renders_empty() {
        let v = TemplateVars {
            priority: None,
            ..vars()
        };
        assert_eq!(render("[{priority}]", &v), "[]");
    }

    #[test]
    fn mistakes_are_reported_with_offsets_and_kept_by_render() {
        let t = "Hi {tokn} é { x } }";
        let problems = check(t, false);
        let summary: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.offset, p.fragment.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![(3, "{tokn}"), (13, "{"), (17, "}"), (19, "}")]
        );
        assert!(
            problems[0]
                .message
                .starts_with("unknown placeholder `{tokn}`, expected one of {vendor}")
        );
        assert_eq!(
            problems[1].message,
            "unescaped `{`, write `{{` for a literal brace"
        );
        assert_eq!(render(t, &vars()), t);
    }

    #[test]
    fn detail_is_allowed_only_with_details_and_renders_empty_without_one() {
        let t = "Key {token}, node {detail}, literal {{detail}}";
        assert!(check(t, true).is_empty());
        let problems = check(t, false);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].offset, 18);
        assert_eq!(problems[0].fragment, "{detail}");
        assert_eq!(
            problems[0].message,
            "placeholder `{detail}` needs a `details` list in this probe to draw from"
        );
        assert_eq!(
            render(t, &vars()),
            "Key SP-1234567890, node edge node sg-3, literal {detail}"
        );
        let none = TemplateVars {
            detail: None,
            ..vars()
        };
        assert_eq!(render("[{detail}]", &none), "[]");
        // Unknown placeholders list `{detail}` only where it is allowed.
        assert!(
            check("{x}", true)[0]
                .message
                .ends_with("{persona}, {detail}")
        );
        assert!(
            check("{x}", false)[0]
                .message
                .ends_with("{priority}, {persona}")
        );
    }
}
