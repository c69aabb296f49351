//! The agent's user: what the host tells them (consent requests, the
//! session indicator, chat, transfers, refusals) and what they do (consent,
//! chat, withdraw or grant a permission, end the session). The host talks
//! to any front end through these two types; [`terminal`] is the one for a
//! terminal.

pub mod terminal;

/// What the host tells its user.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// An expert asks to connect: answer with [`Action::Consent`].
    ConsentAsked {
        /// Who asks.
        expert: String,
        /// What for.
        permissions: Vec<String>,
    },
    /// The session is active with these permissions (the indicator).
    Active {
        /// What the expert may do now.
        permissions: Vec<String>,
    },
    /// A chat line from a member.
    Chat {
        /// Who wrote.
        from: String,
        /// The text.
        text: String,
    },
    /// A file was received into the shared folder, or sent.
    File {
        /// What happened, for people.
        text: String,
    },
    /// Something the user should know about the session (a new leader).
    Info {
        /// What, for people.
        text: String,
    },
    /// Something was refused and dropped (logged as well).
    Refused {
        /// What.
        text: String,
    },
    /// The session ended.
    Ended {
        /// Why.
        reason: String,
    },
}

/// What the user does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer to a consent request: the permissions allowed (none: refused).
    Consent(Vec<String>),
    /// Send a chat line.
    Chat(String),
    /// Withdraw a permission (or `all`).
    Withdraw(String),
    /// Grant a permission again.
    Grant(String),
    /// End the session now.
    End,
}
