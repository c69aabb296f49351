//! The terminal front end: a consent prompt, a status line while the
//! session is active, chat, and commands — `/end`, `/withdraw <permission
//! or all>`, `/grant <permission>`. Lines that are not commands are chat.
//! Where the agent runs without a display this is its window.

use super::{Action, Notice};
use std::io::{BufRead, Write};
use tokio::sync::mpsc;

/// Start reading the terminal on a thread; returns the user's actions and
/// a sender for notices (printed as they come).
pub fn start() -> (mpsc::Receiver<Action>, mpsc::UnboundedSender<Notice>) {
    let (actions_tx, actions) = mpsc::channel(16);
    let (notices, mut notices_rx) = mpsc::unbounded_channel::<Notice>();
    let asking = std::sync::Arc::new(std::sync::Mutex::new(None::<Vec<String>>));
    let asked = asking.clone();
    tokio::spawn(async move {
        while let Some(notice) = notices_rx.recv().await {
            if let Notice::ConsentAsked { permissions, .. } = &notice
                && let Ok(mut a) = asked.lock()
            {
                *a = Some(permissions.clone());
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", render(&notice));
            let _ = out.flush();
        }
    });
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            let pending = asking.lock().ok().and_then(|mut a| a.take());
            let action = match pending {
                Some(asked) => Some(Action::Consent(answer(&line, &asked))),
                None => parse(&line),
            };
            if let Some(action) = action
                && actions_tx.blocking_send(action).is_err()
            {
                break;
            }
        }
    });
    (actions, notices)
}

/// Text from the other side, made harmless for a terminal: control
/// characters (escape sequences that could hide or rewrite what the prompt
/// says) become `?`.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A notice as a line for the terminal.
pub fn render(notice: &Notice) -> String {
    let list = |p: &[String]| clean(&p.join(", "));
    match notice {
        Notice::ConsentAsked {
            expert,
            permissions,
        } => format!(
            "{} asks to connect to this computer and to: {}.\n\
             Allow? [y = all of it / n = no / or list what to allow, e.g. \"view,control\"]",
            clean(expert),
            list(permissions)
        ),
        Notice::Active { permissions } if permissions.is_empty() => {
            "SESSION ACTIVE: the expert may do nothing on this computer now (/grant <permission>, /end)".into()
        }
        Notice::Active { permissions } => format!(
            "SESSION ACTIVE: the expert may {} (type /withdraw <permission> or /end at any time)",
            list(permissions)
        ),
        Notice::Chat { from, text } => format!("{}: {}", clean(from), clean(text)),
        Notice::File { text } => format!("file: {}", clean(text)),
        Notice::Info { text } => format!("session: {}", clean(text)),
        Notice::Refused { text } => format!("refused: {}", clean(text)),
        Notice::Ended { reason } => format!("SESSION ENDED: {}", clean(reason)),
    }
}

/// A notice for the machine's log (an unattended agent has no one to show
/// it to): session content — chat text, file names — stays out of logs,
/// which outlive every retention rule and can travel in diagnostics.
pub fn render_for_log(notice: &Notice) -> String {
    match notice {
        Notice::Chat { from, .. } => {
            format!("chat message from {} (content not logged)", clean(from))
        }
        Notice::File { .. } => "file transfer (name not logged)".into(),
        Notice::Refused { .. } => "a request was refused (details not logged)".into(),
        other => render(other),
    }
}

/// The answer to a consent prompt.
pub fn answer(line: &str, asked: &[String]) -> Vec<String> {
    let line = line.trim().to_ascii_lowercase();
    match line.as_str() {
        "y" | "yes" | "a" | "all" => asked.to_vec(),
        "" | "n" | "no" => Vec::new(),
        list => list
            .split([',', ' '])
            .map(str::trim)
            .filter(|p| asked.iter().any(|a| a == p))
            .map(str::to_owned)
            .collect(),
    }
}

/// A line typed during the session.
pub fn parse(line: &str) -> Option<Action> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    if let Some(command) = line.strip_prefix('/') {
        let mut words = command.split_whitespace();
        return match (words.next(), words.next()) {
            (Some("end" | "quit" | "stop"), _) => Some(Action::End),
            (Some("withdraw" | "revoke"), Some(p)) => Some(Action::Withdraw(p.to_owned())),
            (Some("grant" | "allow"), Some(p)) => Some(Action::Grant(p.to_owned())),
            _ => None,
        };
    }
    Some(Action::Chat(line.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_answers_and_commands_are_read_as_meant() {
        let asked: Vec<String> = ["view", "control", "files"].map(String::from).to_vec();
        assert_eq!(answer("y", &asked), asked);
        assert!(answer("", &asked).is_empty(), "Enter alone refuses");
        assert!(answer("no", &asked).is_empty());
        assert_eq!(answer("view, files, format", &asked), vec!["view", "files"]);
        assert_eq!(parse("/end"), Some(Action::End));
        assert_eq!(
            parse("/withdraw control"),
            Some(Action::Withdraw("control".into()))
        );
        assert_eq!(
            parse("hello there"),
            Some(Action::Chat("hello there".into()))
        );
        assert_eq!(parse("/nonsense"), None);
        let hidden = render(&Notice::ConsentAsked {
            expert: "Bob\x1b[2K\rHelpdesk".into(),
            permissions: vec!["view".into(), "control\x1b[8m".into()],
        });
        assert!(
            !hidden.contains('\x1b'),
            "no escape reaches the terminal: {hidden:?}"
        );
        assert!(hidden.starts_with("Bob?[2K?Helpdesk asks"), "{hidden}");
    }
}
