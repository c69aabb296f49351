//! Frames between a session member and its relay, one per WebSocket binary
//! message.
//!
//! The relay reads only these: the admission handshake, hop-by-hop
//! acknowledgements, its own close notices, and the 32-byte cleartext envelope
//! of each data frame. The payload of a data frame — a handshake message, a
//! wrapped key or a sealed packet — is opaque to it and forwarded unchanged,
//! envelope included, so the end-to-end MAC (which covers the envelope) still
//! verifies at the other end.
//!
//! ```text
//! Admit     01 | version 01 | len16(ticket) | ticket | resume 00
//!           01 | version 01 | len16(ticket) | ticket | resume 01 | token (32) | received (8)
//! Admitted  02 | member (4) | token (32) | received (8) | resumed (1)
//! Ack       03 | count (8)
//! Close     04 | code (2) | len8(reason) | reason (UTF-8)
//! Data      10 | class | kind | 00 | session (16) | sender (4) | target (4) | len32(payload) | payload
//! ```

use crate::ids::{MemberId, SessionId};
use thiserror::Error;

/// Version of the member↔relay protocol carried in `Admit`.
pub const RELAY_PROTOCOL_VERSION: u8 = 1;
/// Length of a data frame's envelope.
pub const ENVELOPE_LEN: usize = 32;
/// Length of the authenticated part of the envelope (all but the length).
pub const AAD_LEN: usize = 28;
/// Length of a resume token.
pub const RESUME_TOKEN_LEN: usize = 32;

const ADMIT: u8 = 0x01;
const ADMITTED: u8 = 0x02;
const ACK: u8 = 0x03;
const CLOSE: u8 = 0x04;
const DATA: u8 = 0x10;

/// How the relay treats a data frame when a receiver falls behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrafficClass {
    /// Delivered in order, buffered for resume, counted by hop acks.
    Reliable,
    /// May be skipped for a slow receiver (screen updates, cursor).
    LatestWins,
}

/// What a data frame carries (the relay does not look inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// An SRP handshake message of `fernhand-e2e`.
    Handshake,
    /// A key delivery of `fernhand-e2e`.
    KeyDelivery,
    /// A sealed packet of `fernhand-e2e`.
    Sealed,
}

/// The cleartext envelope of a data frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// Reliable or latest-wins.
    pub class: TrafficClass,
    /// What the payload is.
    pub kind: PayloadKind,
    /// The session.
    pub session: SessionId,
    /// The member who sent it (the relay checks it against the ticket).
    pub sender: MemberId,
    /// One member, or [`crate::ALL_MEMBERS`] for every member but the sender.
    pub target: MemberId,
}

impl Envelope {
    /// The 28 bytes the end-to-end MAC covers (the envelope without its length).
    pub fn aad(&self) -> [u8; AAD_LEN] {
        let mut out = [0u8; AAD_LEN];
        let (head, rest) = out.split_at_mut(4);
        head.copy_from_slice(&[DATA, class_byte(self.class), kind_byte(self.kind), 0]);
        let (session, rest) = rest.split_at_mut(16);
        session.copy_from_slice(self.session.as_bytes());
        let (sender, target) = rest.split_at_mut(4);
        sender.copy_from_slice(&self.sender.0.to_be_bytes());
        target.copy_from_slice(&self.target.0.to_be_bytes());
        out
    }

    /// A data frame with this envelope and `payload`.
    pub fn frame(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENVELOPE_LEN.saturating_add(payload.len()));
        self.start_frame(&mut out);
        out.extend_from_slice(payload);
        finish_frame(&mut out);
        out
    }

    /// Write the envelope into `out` (cleared first) with a zero length, for
    /// a payload to be appended and then [`finish_frame`] to be called.
    pub fn start_frame(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.aad());
        out.extend_from_slice(&[0u8; 4]);
    }
}

/// Fill in the length field of a frame started with [`Envelope::start_frame`].
pub fn finish_frame(frame: &mut [u8]) {
    let len = u32::try_from(frame.len().saturating_sub(ENVELOPE_LEN)).unwrap_or(u32::MAX);
    if let Some(field) = frame.get_mut(AAD_LEN..ENVELOPE_LEN) {
        field.copy_from_slice(&len.to_be_bytes());
    }
}

fn class_byte(class: TrafficClass) -> u8 {
    match class {
        TrafficClass::Reliable => 0,
        TrafficClass::LatestWins => 1,
    }
}

fn kind_byte(kind: PayloadKind) -> u8 {
    match kind {
        PayloadKind::Handshake => 1,
        PayloadKind::KeyDelivery => 2,
        PayloadKind::Sealed => 3,
    }
}

/// A resume request inside `Admit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The token the relay gave at the previous admission.
    pub token: [u8; RESUME_TOKEN_LEN],
    /// How many reliable data frames the member received from the relay.
    pub received: u64,
}

/// One decoded frame, borrowing from the message it was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A member asks to be admitted (first frame of a connection).
    Admit {
        /// The signed ticket, still to be verified.
        ticket: &'a [u8],
        /// Present when the member resumes an earlier connection.
        resume: Option<Resume>,
    },
    /// The relay admitted the member.
    Admitted {
        /// The member id from the ticket.
        member: MemberId,
        /// Token for resuming this member's state after a dropped connection.
        token: [u8; RESUME_TOKEN_LEN],
        /// Reliable data frames the relay has received from this member.
        received: u64,
        /// Whether earlier state was found (buffered frames will follow).
        resumed: bool,
    },
    /// Cumulative count of reliable data frames received on this hop.
    Ack(u64),
    /// The relay is closing the connection, and why.
    Close {
        /// One of [`CloseCode`] as a number.
        code: u16,
        /// Human-readable reason.
        reason: &'a str,
    },
    /// Data to forward.
    Data {
        /// The cleartext envelope.
        envelope: Envelope,
        /// The opaque payload.
        payload: &'a [u8],
    },
}

/// Why a frame cannot be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// No bytes at all.
    #[error("empty frame")]
    Empty,
    /// An unknown frame type byte.
    #[error("unknown frame type {0:#04x}")]
    UnknownType(u8),
    /// Shorter than its fields.
    #[error("frame truncated in {0}")]
    Truncated(&'static str),
    /// Bytes after the last field.
    #[error("{0} unexpected bytes after the frame")]
    TrailingBytes(usize),
    /// A field value that is not allowed.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The length field disagrees with the frame.
    #[error("data frame says {declared} payload bytes, carries {actual}")]
    LengthMismatch {
        /// What the envelope says.
        declared: u64,
        /// What arrived.
        actual: u64,
    },
    /// A relay protocol version we do not speak.
    #[error("unsupported relay protocol version {0}")]
    UnsupportedVersion(u8),
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FrameError> {
        if self.0.len() < n {
            return Err(FrameError::Truncated(what));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], FrameError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, FrameError> {
        Ok(self.array::<1>(what)?[0])
    }
    fn end(self) -> Result<(), FrameError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(FrameError::TrailingBytes(self.0.len()))
        }
    }
}

impl Frame<'_> {
    /// Decode one frame.
    pub fn parse(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
        let (&kind, rest) = bytes.split_first().ok_or(FrameError::Empty)?;
        let mut c = Cursor(rest);
        let frame = match kind {
            DATA => return parse_data(bytes),
            ADMIT => {
                let version = c.u8("version")?;
                if version != RELAY_PROTOCOL_VERSION {
                    return Err(FrameError::UnsupportedVersion(version));
                }
                let len = usize::from(u16::from_be_bytes(c.array::<2>("ticket length")?));
                let ticket = c.take(len, "ticket")?;
                let resume = match c.u8("resume flag")? {
                    0 => None,
                    1 => Some(Resume {
                        token: c.array::<RESUME_TOKEN_LEN>("resume token")?,
                        received: u64::from_be_bytes(c.array::<8>("received")?),
                    }),
                    _ => return Err(FrameError::Invalid("resume flag")),
                };
                Frame::Admit { ticket, resume }
            }
            ADMITTED => {
                let member = MemberId(u32::from_be_bytes(c.array::<4>("member")?));
                let token = c.array::<RESUME_TOKEN_LEN>("resume token")?;
                let received = u64::from_be_bytes(c.array::<8>("received")?);
                let resumed = match c.u8("resumed")? {
                    0 => false,
                    1 => true,
                    _ => return Err(FrameError::Invalid("resumed flag")),
                };
                Frame::Admitted {
                    member,
                    token,
                    received,
                    resumed,
                }
            }
            ACK => Frame::Ack(u64::from_be_bytes(c.array::<8>("count")?)),
            CLOSE => {
                let code = u16::from_be_bytes(c.array::<2>("code")?);
                let len = usize::from(c.u8("reason length")?);
                let reason = std::str::from_utf8(c.take(len, "reason")?)
                    .map_err(|_| FrameError::Invalid("reason (not UTF-8)"))?;
                Frame::Close { code, reason }
            }
            other => return Err(FrameError::UnknownType(other)),
        };
        c.end()?;
        Ok(frame)
    }
}

/// Decode a data frame (fixed offsets: this is the relay's hot path).
fn parse_data(bytes: &[u8]) -> Result<Frame<'_>, FrameError> {
    let (head, payload) = bytes
        .split_first_chunk::<ENVELOPE_LEN>()
        .ok_or(FrameError::Truncated("envelope"))?;
    let [
        _,
        class,
        kind,
        reserved,
        s @ ..,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
        _,
    ] = *head;
    let class = match class {
        0 => TrafficClass::Reliable,
        1 => TrafficClass::LatestWins,
        _ => return Err(FrameError::Invalid("traffic class")),
    };
    let kind = match kind {
        1 => PayloadKind::Handshake,
        2 => PayloadKind::KeyDelivery,
        3 => PayloadKind::Sealed,
        _ => return Err(FrameError::Invalid("payload kind")),
    };
    if reserved != 0 {
        return Err(FrameError::Invalid("reserved byte"));
    }
    let mut session = [0u8; 16];
    for (dst, src) in session.iter_mut().zip(s.iter()) {
        *dst = *src;
    }
    let word = |at: usize| -> u32 {
        let mut w = [0u8; 4];
        if let Some(src) = head.get(at..at.saturating_add(4)) {
            w.copy_from_slice(src);
        }
        u32::from_be_bytes(w)
    };
    let declared = u64::from(word(28));
    let actual = u64::try_from(payload.len()).unwrap_or(u64::MAX);
    if declared != actual {
        return Err(FrameError::LengthMismatch { declared, actual });
    }
    Ok(Frame::Data {
        envelope: Envelope {
            class,
            kind,
            session: SessionId(session),
            sender: MemberId(word(20)),
            target: MemberId(word(24)),
        },
        payload,
    })
}

/// Encode `Admit`.
pub fn admit(ticket: &[u8], resume: Option<&Resume>) -> Vec<u8> {
    let mut out = vec![ADMIT, RELAY_PROTOCOL_VERSION];
    out.extend_from_slice(
        &u16::try_from(ticket.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(ticket.get(..usize::from(u16::MAX)).unwrap_or(ticket));
    match resume {
        None => out.push(0),
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.token);
            out.extend_from_slice(&r.received.to_be_bytes());
        }
    }
    out
}

/// Encode `Admitted`.
pub fn admitted(
    member: MemberId,
    token: &[u8; RESUME_TOKEN_LEN],
    received: u64,
    resumed: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(46);
    out.push(ADMITTED);
    out.extend_from_slice(&member.0.to_be_bytes());
    out.extend_from_slice(token);
    out.extend_from_slice(&received.to_be_bytes());
    out.push(u8::from(resumed));
    out
}

/// Encode `Ack`.
pub fn ack(count: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9);
    out.push(ACK);
    out.extend_from_slice(&count.to_be_bytes());
    out
}

/// Encode `Close` (the reason is cut to 123 bytes, a WebSocket close limit).
pub fn close(code: CloseCode, reason: &str) -> Vec<u8> {
    let mut cut = reason.len().min(123);
    while !reason.is_char_boundary(cut) {
        cut = cut.saturating_sub(1);
    }
    let reason = reason.get(..cut).unwrap_or_default();
    let mut out = vec![CLOSE];
    out.extend_from_slice(&code.as_u16().to_be_bytes());
    out.push(u8::try_from(reason.len()).unwrap_or(0));
    out.extend_from_slice(reason.as_bytes());
    out
}

/// Why a relay closes a connection. Also used as the WebSocket close code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// The first frame was not a valid `Admit`, or a frame was malformed.
    ProtocolError,
    /// No `Admit` within the handshake time limit.
    HandshakeTimeout,
    /// The ticket is missing, malformed or its signature does not verify.
    BadTicket,
    /// The ticket has expired or is not valid yet.
    ExpiredTicket,
    /// The ticket is for another relay.
    WrongRelay,
    /// A data frame names another session or sender than the ticket.
    WrongIdentity,
    /// The session has as many members as allowed.
    SessionFull,
    /// Too many connections from this address.
    TooManyConnections,
    /// A frame larger than allowed.
    FrameTooLarge,
    /// The member fell too far behind on reliable traffic.
    TooSlow,
    /// Another connection took over this member.
    Replaced,
    /// The relay is shutting down.
    Shutdown,
}

impl CloseCode {
    /// All codes.
    pub const ALL: [CloseCode; 12] = [
        CloseCode::ProtocolError,
        CloseCode::HandshakeTimeout,
        CloseCode::BadTicket,
        CloseCode::ExpiredTicket,
        CloseCode::WrongRelay,
        CloseCode::WrongIdentity,
        CloseCode::SessionFull,
        CloseCode::TooManyConnections,
        CloseCode::FrameTooLarge,
        CloseCode::TooSlow,
        CloseCode::Replaced,
        CloseCode::Shutdown,
    ];

    /// The numeric code (WebSocket private range 4000–4999).
    pub const fn as_u16(self) -> u16 {
        match self {
            CloseCode::ProtocolError => 4001,
            CloseCode::HandshakeTimeout => 4002,
            CloseCode::BadTicket => 4003,
            CloseCode::ExpiredTicket => 4004,
            CloseCode::WrongRelay => 4005,
            CloseCode::WrongIdentity => 4006,
            CloseCode::SessionFull => 4007,
            CloseCode::TooManyConnections => 4008,
            CloseCode::FrameTooLarge => 4009,
            CloseCode::TooSlow => 4010,
            CloseCode::Replaced => 4011,
            CloseCode::Shutdown => 4012,
        }
    }

    /// The code with this number.
    pub fn from_u16(code: u16) -> Option<CloseCode> {
        CloseCode::ALL.into_iter().find(|c| c.as_u16() == code)
    }

    /// A short stable name (metrics labels, logs).
    pub const fn name(self) -> &'static str {
        match self {
            CloseCode::ProtocolError => "protocol_error",
            CloseCode::HandshakeTimeout => "handshake_timeout",
            CloseCode::BadTicket => "bad_ticket",
            CloseCode::ExpiredTicket => "expired_ticket",
            CloseCode::WrongRelay => "wrong_relay",
            CloseCode::WrongIdentity => "wrong_identity",
            CloseCode::SessionFull => "session_full",
            CloseCode::TooManyConnections => "too_many_connections",
            CloseCode::FrameTooLarge => "frame_too_large",
            CloseCode::TooSlow => "too_slow",
            CloseCode::Replaced => "replaced",
            CloseCode::Shutdown => "shutdown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope() -> Envelope {
        Envelope {
            class: TrafficClass::LatestWins,
            kind: PayloadKind::Sealed,
            session: SessionId([0xab; 16]),
            sender: MemberId(2),
            target: MemberId(0),
        }
    }

    #[test]
    fn data_frame_layout_and_round_trip() {
        let frame = envelope().frame(b"payload");
        assert_eq!(
            hex::encode(&frame[..ENVELOPE_LEN]),
            "10010300abababababababababababababababab000000020000000000000007"
        );
        assert_eq!(
            Frame::parse(&frame),
            Ok(Frame::Data {
                envelope: envelope(),
                payload: b"payload"
            })
        );
        assert_eq!(&frame[..AAD_LEN], &envelope().aad());
    }

    #[test]
    fn data_frame_errors() {
        let frame = envelope().frame(b"payload");
        assert!(matches!(
            Frame::parse(&frame[..frame.len() - 1]),
            Err(FrameError::LengthMismatch {
                declared: 7,
                actual: 6
            })
        ));
        assert_eq!(
            Frame::parse(&frame[..10]),
            Err(FrameError::Truncated("envelope"))
        );
        let mut bad = frame.clone();
        bad[1] = 9;
        assert_eq!(
            Frame::parse(&bad),
            Err(FrameError::Invalid("traffic class"))
        );
        let mut bad = frame.clone();
        bad[3] = 1;
        assert_eq!(
            Frame::parse(&bad),
            Err(FrameError::Invalid("reserved byte"))
        );
        assert_eq!(Frame::parse(&[]), Err(FrameError::Empty));
        assert_eq!(Frame::parse(&[0x7f]), Err(FrameError::UnknownType(0x7f)));
    }

    #[test]
    fn control_frames_round_trip() {
        let resume = Resume {
            token: [7; 32],
            received: 99,
        };
        assert_eq!(
            Frame::parse(&admit(b"ticket", Some(&resume))),
            Ok(Frame::Admit {
                ticket: b"ticket",
                resume: Some(resume)
            })
        );
        assert_eq!(
            Frame::parse(&admit(b"t", None)),
            Ok(Frame::Admit {
                ticket: b"t",
                resume: None
            })
        );
        assert_eq!(
            Frame::parse(&admitted(MemberId(3), &[1; 32], 5, true)),
            Ok(Frame::Admitted {
                member: MemberId(3),
                token: [1; 32],
                received: 5,
                resumed: true
            })
        );
        assert_eq!(Frame::parse(&ack(u64::MAX)), Ok(Frame::Ack(u64::MAX)));
        let long = "é".repeat(100);
        let encoded = close(CloseCode::TooSlow, &long);
        let Ok(Frame::Close { code, reason }) = Frame::parse(&encoded) else {
            panic!("close frame did not parse");
        };
        assert_eq!(CloseCode::from_u16(code), Some(CloseCode::TooSlow));
        assert!(reason.len() <= 123 && long.starts_with(reason));
        let mut trailing = ack(1);
        trailing.push(0);
        assert_eq!(Frame::parse(&trailing), Err(FrameError::TrailingBytes(1)));
        let mut wrong_version = admit(b"t", None);
        wrong_version[1] = 2;
        assert_eq!(
            Frame::parse(&wrong_version),
            Err(FrameError::UnsupportedVersion(2))
        );
    }

    #[test]
    fn close_codes_are_distinct_and_round_trip() {
        for code in CloseCode::ALL {
            assert_eq!(CloseCode::from_u16(code.as_u16()), Some(code));
        }
        let mut names: Vec<_> = CloseCode::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CloseCode::ALL.len());
    }
}
