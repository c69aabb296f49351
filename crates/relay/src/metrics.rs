//! The relay's Prometheus metrics: sessions, members, traffic, drops and
//! refusals by reason, buffer use. Served as text on a separate port.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// A reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// Why (stable snake_case names).
    pub reason: String,
}

/// Every metric the relay exports.
pub struct RelayMetrics {
    registry: Registry,
    /// Sessions with at least one member (connected or resumable).
    pub sessions: Gauge,
    /// Members with a live connection.
    pub members_connected: Gauge,
    /// Members whose connection dropped and who may still resume.
    pub members_resumable: Gauge,
    /// Frames received from members.
    pub frames_in: Counter,
    /// Frames written to members.
    pub frames_out: Counter,
    /// Bytes received from members.
    pub bytes_in: Counter,
    /// Bytes written to members.
    pub bytes_out: Counter,
    /// Frames not delivered, by reason.
    pub drops: Family<Reason, Counter>,
    /// Connections refused or closed by the relay, by reason.
    pub refusals: Family<Reason, Counter>,
    /// Reliable bytes held for members (unacknowledged, for resume).
    pub buffer_bytes: Gauge,
    /// Members resumed after a dropped connection.
    pub resumes: Counter,
}

impl Default for RelayMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fernhand_relay");
        let m = RelayMetrics {
            sessions: Gauge::default(),
            members_connected: Gauge::default(),
            members_resumable: Gauge::default(),
            frames_in: Counter::default(),
            frames_out: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            drops: Family::default(),
            refusals: Family::default(),
            buffer_bytes: Gauge::default(),
            resumes: Counter::default(),
            registry: Registry::default(),
        };
        registry.register("sessions", "Sessions with members", m.sessions.clone());
        registry.register(
            "members_connected",
            "Members with a live connection",
            m.members_connected.clone(),
        );
        registry.register(
            "members_resumable",
            "Members that may resume a dropped connection",
            m.members_resumable.clone(),
        );
        registry.register(
            "frames_in",
            "Frames received from members",
            m.frames_in.clone(),
        );
        registry.register(
            "frames_out",
            "Frames written to members",
            m.frames_out.clone(),
        );
        registry.register(
            "bytes_in",
            "Bytes received from members",
            m.bytes_in.clone(),
        );
        registry.register("bytes_out", "Bytes written to members", m.bytes_out.clone());
        registry.register("drops", "Frames not delivered, by reason", m.drops.clone());
        registry.register(
            "refusals",
            "Connections refused or closed by the relay, by reason",
            m.refusals.clone(),
        );
        registry.register(
            "buffer_bytes",
            "Reliable bytes held for resume",
            m.buffer_bytes.clone(),
        );
        registry.register(
            "resumes",
            "Members resumed after a dropped connection",
            m.resumes.clone(),
        );
        RelayMetrics { registry, ..m }
    }
}

impl RelayMetrics {
    /// Count a dropped frame.
    pub fn drop_frame(&self, reason: &str) {
        self.drops
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// Count a refusal.
    pub fn refuse(&self, reason: &str) {
        self.refusals
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// A counter's value for a reason (tests, admin views).
    pub fn refusals_for(&self, reason: &str) -> u64 {
        self.refusals
            .get_or_create(&Reason {
                reason: reason.to_owned(),
            })
            .get()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
