//! Messages read from a ticket API rather than a mailbox, and who wrote them.
//! Channels produce them; the classifier reads them.

/// A message read from a ticket API rather than a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiMessage {
    /// The vendor's id of the message (comment id, Slack `ts`).
    pub vendor_id: String,
    /// The vendor's id of the author (user id, account id, login).
    pub author: String,
    /// What the author rules made of the author.
    pub role: AuthorRole,
    /// The message text.
    pub body: String,
    /// The rule that decided `role`, in words.
    pub role_reason: String,
}

/// Who wrote an API message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorRole {
    /// A person on the vendor's side: a reply.
    Staff,
    /// Our own account (the probe itself, our closing message): not a reply.
    Us,
    /// A bot, app or automation account of the vendor: automated or ack.
    Bot,
    /// Someone else (another customer, a bystander): not the vendor's answer.
    Other,
}
