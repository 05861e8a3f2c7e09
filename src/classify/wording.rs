//! What the text says, in every language of the phrase files:
//! acknowledgement wording (strong and weak), notification wording, how much
//! other text there is, helpdesk notices of an agent's comment, and the
//! decision for rows 5 to 8 of the decision table, with its confidence.

use super::helpdesk::Def;
use super::lexicon::{Cat, LEXICON, normalize, word_count};
use super::marker::{Marker, stamp_note};
use super::{Classification, MessageFacts, SUBSTANTIVE_WORDS, shorten};
use crate::model::{Class, Confidence};

super::regexes! {
    URL = r"(?i)\b(https?://|www\.)\S+";
}

/// A reply this soon after filing is almost always a machine's.
const TOO_FAST_SECS: i64 = 60;

/// Whether acknowledgement wording is a machine describing itself or words a
/// person might also write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strength {
    /// "this is an automated response", "a ticket has been created".
    Strong,
    /// "thank you for contacting us", "we will get back to you".
    Weak,
}

/// Acknowledgement wording found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AckWording {
    pub strength: Strength,
    /// The words found (normalized).
    pub phrase: String,
    /// The language whose phrase file has them.
    pub lang: &'static str,
}

/// The strongest acknowledgement wording in `norm` (a [`normalize`]d text).
pub(crate) fn ack_wording(norm: &str) -> Option<AckWording> {
    let hit = |cat, strength| {
        LEXICON.find(cat, norm).map(|h| AckWording {
            strength,
            phrase: h.phrase.to_string(),
            lang: h.lang,
        })
    };
    hit(Cat::AckStrong, Strength::Strong).or_else(|| hit(Cat::AckWeak, Strength::Weak))
}

/// Counting stops here: past it, a text is long by any measure.
pub(crate) const WORDS_COUNTED: usize = 100;

/// Below this many words of other text, polite acknowledgement wording
/// leaves no room for an answer; from here up to [`SUBSTANTIVE_WORDS`] a
/// short answer may be hiding, so an acknowledgement there is unsure.
const FEW_WORDS: usize = 5;

/// How many words of the message's own text are left once acknowledgement,
/// notification, boilerplate, greeting and sign-off sentences are removed
/// (counted up to [`WORDS_COUNTED`]).
pub(crate) fn substantive_words(own: &str) -> usize {
    let own = match URL.as_ref() {
        Some(re) => re.replace_all(own, " "),
        None => own.into(),
    };
    let mut count = 0;
    for s in own
        .split([
            '.', '!', '?', ',', ';', '\n', '。', '！', '？', '，', '；', '、', '؟', '،',
        ])
        .filter(|s| !s.trim().is_empty())
        .map(normalize)
    {
        if LEXICON.has(Cat::AckStrong, &s)
            || LEXICON.has(Cat::AckWeak, &s)
            || LEXICON.has(Cat::Notification, &s)
            || LEXICON.has(Cat::Boilerplate, &s)
        {
            continue;
        }
        count += word_count(&s);
        if count >= WORDS_COUNTED {
            return WORDS_COUNTED;
        }
    }
    count
}

/// The person a helpdesk notice says commented, unless it is an automation
/// account.
fn agent_commenter<'t>(def: &Def, own: &'t str) -> Option<&'t str> {
    let caps = def.agent_notice.as_ref()?.captures(own)?;
    let name = caps.get(1)?.as_str().trim();
    let automation = def
        .automation_names
        .as_ref()
        .is_some_and(|re| re.is_match(name));
    (!automation).then_some(name)
}

/// What rows 5 to 8 need to know about a message besides its facts.
pub(crate) struct Evidence<'a> {
    /// The message's own text (quotes removed), as written.
    pub own: &'a str,
    /// The same, [`normalize`]d.
    pub own_norm: &'a str,
    /// The helpdesk that sent it, if known.
    pub helpdesk: Option<&'a Def>,
    /// Its machine markers.
    pub markers: &'a [Marker],
    /// Seconds from filing to this message.
    pub since_filing_secs: Option<i64>,
    /// Our own addresses, lowercase.
    pub our_addresses: &'a [String],
}

impl Evidence<'_> {
    fn helpdesk_name(&self) -> &str {
        self.helpdesk
            .map_or("the vendor's mail system", |d| d.name.as_str())
    }
}

/// Rows 5 to 8 of the decision table: machine markers and wording.
pub(crate) fn classify_by_wording(facts: &MessageFacts, ev: &Evidence<'_>) -> Classification {
    let name = ev.helpdesk_name().to_string();
    let mut reasons: Vec<String> = stamp_note(&name, ev.markers).into_iter().collect();
    if let Some(def) = ev.helpdesk
        && let Some(who) = agent_commenter(def, ev.own)
    {
        reasons.push(format!(
            "a {name} notice of a comment by {who:?}: {name} sends agents' comments as bulk mail too"
        ));
        return Classification::new(Class::Human, reasons);
    }
    let ack = ack_wording(ev.own_norm);
    let subject = normalize(facts.subject.as_deref().unwrap_or_default());
    let other = substantive_words(ev.own);
    // A survey or closure notice in the subject is a notification whatever
    // the text says (agents answer under the ticket's subject); in the text
    // only when little else is there (Zendesk puts "How would you rate my
    // reply?" under agents' answers too).
    let notification = LEXICON
        .find(Cat::Notification, &subject)
        .map(|h| Notice {
            phrase: h.phrase.to_string(),
            lang: h.lang,
            in_subject: true,
        })
        .or_else(|| {
            LEXICON
                .find(Cat::Notification, ev.own_norm)
                .map(|h| Notice {
                    phrase: h.phrase.to_string(),
                    lang: h.lang,
                    in_subject: false,
                })
        })
        .filter(|n| n.in_subject || other < SUBSTANTIVE_WORDS);

    // Per-ticket evidence of the helpdesk: markers only its automatic mails
    // carry, and the header that names who caused the mail.
    let machine_only = ev.helpdesk.and_then(|d| d.machine_only_marker(facts));
    let originator = originator(facts, ev);

    let mut live: Vec<String> = ev
        .markers
        .iter()
        .filter(|m| !m.stamp)
        .map(|m| m.text.clone())
        .collect();
    if let Some(m) = &machine_only {
        live.push(format!("{m}, which {name} puts only on its automatic mail"));
    }
    if let Some(Originator::Us(value)) = &originator {
        live.push(format!(
            "{value}: {name} says our own message caused this mail"
        ));
    }
    if !live.is_empty() {
        let evidence = live.join(", ");
        if let Some(n) = &notification {
            reasons.push(format!("machine-sent ({evidence}): {}", n.describe(other)));
            return Classification::new(Class::Automated, reasons);
        }
        return match ack {
            Some(a) => {
                reasons.push(format!(
                    "machine-sent ({evidence}) with acknowledgement wording {:?} ({})",
                    shorten(&a.phrase, 60),
                    a.lang
                ));
                Classification::new(Class::Ack, reasons)
            }
            None => {
                reasons.push(format!(
                    "machine-sent ({evidence}) and no acknowledgement wording"
                ));
                let only_weak = machine_only.is_none()
                    && !matches!(originator, Some(Originator::Us(_)))
                    && ev.markers.iter().filter(|m| !m.stamp).all(Marker::is_weak);
                let c = Classification::new(Class::Automated, reasons);
                if only_weak && other >= SUBSTANTIVE_WORDS {
                    let mut c = c.with(Confidence::Unsure);
                    c.reasons.push(format!(
                        "but {other} words of other text: a helpdesk that marks every mail this way would make a person's answer look like this"
                    ));
                    c
                } else {
                    c
                }
            }
        };
    }
    if let Some(Originator::Other(value)) = &originator {
        reasons.push(format!(
            "{value}: {name} names someone other than us as its author"
        ));
    }
    let stamped = ev.helpdesk.is_some_and(Def::stamps_every_mail) || originator.is_some();
    let c = if stamped {
        by_stamped_wording(ack, notification, other, &name, reasons)
    } else {
        by_wording_alone(ack, notification, other, reasons)
    };
    if c.class == Class::Human {
        human_confidence(c, ev, originator.is_some())
    } else {
        c
    }
}

/// Notification wording (a survey, a ticket solved or closed notice).
struct Notice {
    phrase: String,
    lang: &'static str,
    in_subject: bool,
}

impl Notice {
    /// The evidence, in words.
    fn describe(&self, other: usize) -> String {
        if self.in_subject {
            format!(
                "the subject is a notification ({:?}, {}), not an answer",
                shorten(&self.phrase, 60),
                self.lang
            )
        } else {
            format!(
                "notification wording ({:?}, {}) with only {other} words of other text",
                shorten(&self.phrase, 60),
                self.lang
            )
        }
    }
}

/// What a helpdesk's originator header says.
enum Originator {
    /// Our own address: our message caused this mail.
    Us(String),
    /// Someone else: a person at the vendor acted.
    Other(String),
}

/// The helpdesk's originator header, compared with our addresses.
fn originator(facts: &MessageFacts, ev: &Evidence<'_>) -> Option<Originator> {
    let header = ev.helpdesk?.originator.as_deref()?;
    let value = facts.header(header)?.trim();
    if value.is_empty() {
        return None;
    }
    let shown = format!("{header}: {}", shorten(value, 60));
    let lower = value.to_lowercase();
    if ev.our_addresses.iter().any(|a| lower.contains(a.as_str())) {
        Some(Originator::Us(shown))
    } else {
        Some(Originator::Other(shown))
    }
}

/// How sure a "human" verdict is: unsure when it came too soon after
/// filing, or when the text is in no language the classifier has phrases
/// for (its wording could not have been recognised).
fn human_confidence(c: Classification, ev: &Evidence<'_>, originator: bool) -> Classification {
    let mut c = c;
    if let Some(secs) = ev.since_filing_secs
        && (0..TOO_FAST_SECS).contains(&secs)
    {
        c.reasons.push(format!(
            "unsure: it came {secs} s after filing, sooner than people answer"
        ));
        return c.with(Confidence::Unsure);
    }
    match LEXICON.known_language(ev.own_norm) {
        Some(lang) => {
            c.reasons.push(format!(
                "the text is in a language the classifier knows ({lang})"
            ));
            c.with(if originator {
                Confidence::Certain
            } else {
                Confidence::Likely
            })
        }
        None if originator => c.with(Confidence::Likely),
        None => {
            c.reasons.push(
                "unsure: the text is too short or in a language the classifier has no phrases for, so machine wording could not be recognised"
                    .to_string(),
            );
            c.with(Confidence::Unsure)
        }
    }
}

/// Row 7: a helpdesk whose stamps were ignored, so the wording decides.
fn by_stamped_wording(
    ack: Option<AckWording>,
    notification: Option<Notice>,
    other: usize,
    name: &str,
    mut reasons: Vec<String>,
) -> Classification {
    if reasons.is_empty() {
        reasons.push(format!(
            "sent through {name}, whose headers do not tell agents from automations, so the wording decides"
        ));
    }
    if let Some(n) = notification {
        reasons.push(format!("a {name} mail: {}", n.describe(other)));
        return Classification::new(Class::Automated, reasons);
    }
    match ack {
        Some(a) if a.strength == Strength::Strong => {
            reasons.push(format!(
                "the text says it is automatic: {:?} ({})",
                shorten(&a.phrase, 60),
                a.lang
            ));
            return Classification::new(Class::Ack, reasons);
        }
        Some(a) if other < SUBSTANTIVE_WORDS => {
            reasons.push(format!(
                "acknowledgement wording {:?} ({}) and only {other} words of other text",
                shorten(&a.phrase, 60),
                a.lang
            ));
            let c = Classification::new(Class::Ack, reasons);
            // A few words besides polite wording may be a short answer.
            return if other >= FEW_WORDS {
                c.with(Confidence::Unsure)
            } else {
                c
            };
        }
        Some(a) => reasons.push(format!(
            "acknowledgement wording {:?} ({}), but {other} words of other text, so read as a person's answer",
            shorten(&a.phrase, 60),
            a.lang
        )),
        None => reasons.push(format!(
            "no acknowledgement wording and no notification in the subject or a short text, so read as an answer written in {name}"
        )),
    }
    Classification::new(Class::Human, reasons)
}

/// Row 8: no machine marker at all.
fn by_wording_alone(
    ack: Option<AckWording>,
    notification: Option<Notice>,
    other: usize,
    mut reasons: Vec<String>,
) -> Classification {
    match (ack, notification) {
        (Some(a), Some(n)) if a.strength == Strength::Strong => {
            reasons.push(format!(
                "no machine headers, but the text says it is automatic ({:?}, {}) and {}",
                shorten(&a.phrase, 60),
                a.lang,
                n.describe(other)
            ));
            Classification::new(Class::Automated, reasons)
        }
        (Some(a), _) if a.strength == Strength::Strong => {
            reasons.push(format!(
                "no machine headers, but the text says it is automatic: {:?} ({})",
                shorten(&a.phrase, 60),
                a.lang
            ));
            Classification::new(Class::Ack, reasons)
        }
        (_, Some(n)) => {
            reasons.push(format!("no machine headers, but {}", n.describe(other)));
            Classification::new(Class::Automated, reasons).with(Confidence::Unsure)
        }
        (Some(a), None) if other < SUBSTANTIVE_WORDS => {
            reasons.push(format!(
                "no machine headers, but nothing besides acknowledgement wording {:?} ({}) and {other} words of other text: an acknowledgement, whoever sent it",
                shorten(&a.phrase, 60),
                a.lang
            ));
            Classification::new(Class::Ack, reasons).with(Confidence::Unsure)
        }
        _ => {
            reasons.push(
                "no machine headers (Auto-Submitted, Precedence, List-*, X-Autoreply, ...) and no automatic wording: written by a person"
                    .to_string(),
            );
            Classification::new(Class::Human, reasons)
        }
    }
}
