//! One machine marker found in a message's headers and how the reasons word
//! the ones a helpdesk stamps on every mail. A leaf shared by the
//! out-of-office check and the wording rows, so neither imports the other.

/// One machine marker found in the headers, with a description for the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The lowercase header name (or a pseudo-name for the sender check).
    pub header: &'static str,
    /// The evidence, in words.
    pub text: String,
    /// The first word of the header value, lowercase.
    pub value: String,
    /// Whether the helpdesk puts this on every mail, so it says nothing.
    pub stamp: bool,
}

impl Marker {
    /// Whether this marker fits an auto-responder (as opposed to a list or a
    /// mail system), so that absence wording makes the message out-of-office.
    pub(crate) fn suggests_auto_reply(&self) -> bool {
        match self.header {
            "x-autoreply"
            | "x-autorespond"
            | "auto-submitted"
            | "x-auto-response-suppress"
            | "return-path" => true,
            "precedence" => matches!(self.value.as_str(), "auto_reply" | "junk"),
            _ => false,
        }
    }

    /// Whether this marker is one that helpdesks and mailing software also
    /// put on mail a person wrote (`Precedence: bulk/list`, `X-Loop`,
    /// `List-*`, `X-Auto-Response-Suppress`), as opposed to one that says the
    /// message itself was generated (`Auto-Submitted`, `X-Autoreply`, a mail
    /// system's sender, an empty return path).
    pub(crate) fn is_weak(&self) -> bool {
        match self.header {
            "precedence" => matches!(self.value.as_str(), "bulk" | "list"),
            "x-loop" | "list-id" | "list-unsubscribe" | "x-auto-response-suppress" => true,
            _ => false,
        }
    }
}

/// The stamps that were ignored, in words, for a reason.
pub(crate) fn stamp_note(name: &str, markers: &[Marker]) -> Option<String> {
    let stamps: Vec<&str> = markers
        .iter()
        .filter(|m| m.stamp)
        .map(|m| m.text.as_str())
        .collect();
    if stamps.is_empty() {
        return None;
    }
    Some(format!(
        "{name} puts {} on every mail, agent answers included, so {} not used",
        stamps.join(" and "),
        if stamps.len() == 1 {
            "it was"
        } else {
            "they were"
        }
    ))
}
