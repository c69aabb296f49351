//! What a relay allows: frame size, members per session, connections per
//! address, handshake time, per-member buffers and how long a dropped member's
//! state waits for it to resume.

use std::time::Duration;

/// A relay's limits. Every refusal they cause is logged as a security event.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest WebSocket message (one frame) accepted.
    pub max_frame_bytes: usize,
    /// Most members (connected or resumable) in one session.
    pub max_members_per_session: usize,
    /// Most concurrent connections from one IP address.
    pub max_connections_per_ip: usize,
    /// Time from TCP accept to a valid `Admit`.
    pub handshake_timeout: Duration,
    /// Reliable bytes buffered for one member (unacknowledged, for resume);
    /// a member that falls further behind is disconnected and must resync.
    pub max_reliable_buffer_bytes: usize,
    /// Unsent bytes queued for a member above which latest-wins frames are
    /// skipped for it.
    pub latest_wins_skip_bytes: usize,
    /// How long a dropped member's state and buffer wait for it to resume.
    pub resume_window: Duration,
    /// Send a hop acknowledgement after this many reliable frames.
    pub ack_every: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 2 * 1024 * 1024,
            max_members_per_session: 32,
            max_connections_per_ip: 64,
            handshake_timeout: Duration::from_secs(10),
            max_reliable_buffer_bytes: 32 * 1024 * 1024,
            latest_wins_skip_bytes: 512 * 1024,
            resume_window: Duration::from_secs(60),
            ack_every: 16,
        }
    }
}
