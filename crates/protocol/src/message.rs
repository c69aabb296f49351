//! Messages inside sealed packets: what members say to each other.
//!
//! ```text
//! reliable types     type (1) | stream (1: 00 broadcast, 01 direct) | rseq (8) | body
//! unreliable types   type (1) | body
//! ```
//!
//! High-rate types have fixed binary bodies; low-rate ones are JSON. Each type
//! fixes its traffic class, whether it is delivered reliably end to end, and
//! whether it may be compressed (never for input or clipboard: the compressed
//! length would leak their content).

use crate::frame::TrafficClass;
use crate::ids::MemberId;
use crate::input::InputEvent;
use fernhand_e2e::Compression;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest file chunk a sender puts in one message.
pub const MAX_FILE_CHUNK: usize = 64 * 1024;
/// Largest piece of a screen message in one `Screen` message: larger ones
/// (a lossless keyframe of a busy screen) travel in pieces.
pub const MAX_SCREEN_PIECE: usize = 1024 * 1024;
/// Largest clipboard text, in bytes.
pub const MAX_CLIPBOARD: usize = 1024 * 1024;

/// Message type numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// The leader's list of members (reliable).
    Roster,
    /// Cumulative acknowledgements (unreliable).
    Ack,
    /// "Resend me what I miss", after a reconnect or a gap (unreliable).
    Sync,
    /// Where a sender's broadcast stream starts for a new member (reliable, direct).
    StreamStart,
    /// Chat text (reliable).
    Chat,
    /// Session control, JSON (reliable).
    Control,
    /// Announces a file transfer (reliable).
    FileOffer,
    /// A piece of a file (reliable).
    FileChunk,
    /// Ends a file transfer with its hash (reliable).
    FileEnd,
    /// A screen-stream message, host → viewers or viewer → host (reliable;
    /// the host paces updates by the viewers' acknowledgements).
    Screen,
    /// An input event, expert → host (reliable, never compressed).
    Input,
    /// Clipboard text, either way (reliable, never compressed).
    Clipboard,
}

impl MessageType {
    /// Wire number.
    pub const fn byte(self) -> u8 {
        match self {
            MessageType::Roster => 0x01,
            MessageType::Ack => 0x02,
            MessageType::Sync => 0x03,
            MessageType::StreamStart => 0x04,
            MessageType::Chat => 0x10,
            MessageType::Control => 0x11,
            MessageType::FileOffer => 0x20,
            MessageType::FileChunk => 0x21,
            MessageType::FileEnd => 0x22,
            MessageType::Screen => 0x30,
            MessageType::Input => 0x40,
            MessageType::Clipboard => 0x41,
        }
    }

    /// The type with this number.
    pub fn from_byte(b: u8) -> Option<MessageType> {
        Some(match b {
            0x01 => MessageType::Roster,
            0x02 => MessageType::Ack,
            0x03 => MessageType::Sync,
            0x04 => MessageType::StreamStart,
            0x10 => MessageType::Chat,
            0x11 => MessageType::Control,
            0x20 => MessageType::FileOffer,
            0x21 => MessageType::FileChunk,
            0x22 => MessageType::FileEnd,
            0x30 => MessageType::Screen,
            0x40 => MessageType::Input,
            0x41 => MessageType::Clipboard,
            _ => return None,
        })
    }

    /// Whether it is delivered in order and resent after loss.
    pub const fn reliable(self) -> bool {
        !matches!(self, MessageType::Ack | MessageType::Sync)
    }

    /// How the relay treats it.
    pub const fn class(self) -> TrafficClass {
        TrafficClass::Reliable
    }

    /// Whether it may be compressed.
    pub const fn compression(self) -> Compression {
        match self {
            // Input and clipboard: the compressed length would leak their
            // content; screen messages are compressed already.
            MessageType::Ack
            | MessageType::Sync
            | MessageType::Input
            | MessageType::Clipboard
            | MessageType::Screen => Compression::Never,
            _ => Compression::IfSmaller,
        }
    }
}

/// Which of a sender's reliable streams a message belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Sent to every member.
    Broadcast,
    /// Sent to one member.
    Direct,
}

/// One member's place in the session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    /// Member id.
    pub id: u32,
    /// Role name (leader, expert, customer, agent, viewer).
    pub role: String,
    /// What the leader allows this member to do.
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The leader's announcement of the members, at every epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// The epoch this roster belongs to.
    pub epoch: u32,
    /// The leader's id.
    pub leader: u32,
    /// Every member, the leader included.
    pub members: Vec<RosterEntry>,
}

impl Roster {
    /// Whether `id` is listed.
    pub fn contains(&self, id: MemberId) -> bool {
        self.members.iter().any(|m| m.id == id.0)
    }
}

/// Where a receiver stands in one sender's stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamPosition {
    /// The sender.
    pub sender: MemberId,
    /// Which of its streams.
    pub stream: Stream,
    /// The next reliable sequence number the receiver expects.
    pub next: u64,
}

/// A chat line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chat {
    /// The text.
    pub text: String,
}

/// A file about to be sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffer {
    /// Transfer id, unique per sender.
    pub id: u32,
    /// File name (no directories).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// A file transfer is complete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEnd {
    /// Transfer id.
    pub id: u32,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
}

/// A decoded message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// See [`Roster`].
    Roster(Roster),
    /// Cumulative acknowledgements.
    Ack(Vec<StreamPosition>),
    /// Resend requests, with the requester's epoch.
    Sync {
        /// The requester's current epoch.
        epoch: u32,
        /// Where it stands in each stream.
        positions: Vec<StreamPosition>,
    },
    /// The first broadcast sequence number the receiver is meant to read
    /// (what came before was sealed for earlier members).
    StreamStart(u64),
    /// See [`Chat`].
    Chat(Chat),
    /// Session control (JSON object).
    Control(serde_json::Value),
    /// See [`FileOffer`].
    FileOffer(FileOffer),
    /// A piece of file `id` at `offset`.
    FileChunk {
        /// Transfer id.
        id: u32,
        /// Byte offset in the file.
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// See [`FileEnd`].
    FileEnd(FileEnd),
    /// A piece of a screen-stream message (`fernhand-screen`'s wire
    /// format); the pieces of one message follow each other in the sender's
    /// stream, the last one flagged.
    Screen {
        /// Whether this piece ends the screen message.
        last: bool,
        /// The bytes.
        data: Vec<u8>,
    },
    /// See [`InputEvent`].
    Input(InputEvent),
    /// Clipboard text.
    Clipboard(String),
}

/// A message that cannot be decoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// Empty plaintext.
    #[error("empty message")]
    Empty,
    /// Unknown type number.
    #[error("unknown message type {0:#04x}")]
    UnknownType(u8),
    /// Shorter than its fields.
    #[error("message truncated in {0}")]
    Truncated(&'static str),
    /// A field value that is not allowed.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A JSON body that does not parse.
    #[error("bad JSON body: {0}")]
    Json(String),
}

impl Message {
    /// This message's type.
    pub fn kind(&self) -> MessageType {
        match self {
            Message::Roster(_) => MessageType::Roster,
            Message::Ack(_) => MessageType::Ack,
            Message::Sync { .. } => MessageType::Sync,
            Message::StreamStart(_) => MessageType::StreamStart,
            Message::Chat(_) => MessageType::Chat,
            Message::Control(_) => MessageType::Control,
            Message::FileOffer(_) => MessageType::FileOffer,
            Message::FileChunk { .. } => MessageType::FileChunk,
            Message::FileEnd(_) => MessageType::FileEnd,
            Message::Screen { .. } => MessageType::Screen,
            Message::Input(_) => MessageType::Input,
            Message::Clipboard(_) => MessageType::Clipboard,
        }
    }

    /// The body, without type or reliable header.
    pub fn encode_body(&self) -> Vec<u8> {
        fn json<T: Serialize>(v: &T) -> Vec<u8> {
            serde_json::to_vec(v).unwrap_or_default()
        }
        match self {
            Message::Roster(r) => json(r),
            Message::Ack(positions) => encode_positions(positions),
            Message::Sync { epoch, positions } => {
                let mut out = epoch.to_be_bytes().to_vec();
                out.extend_from_slice(&encode_positions(positions));
                out
            }
            Message::StreamStart(n) => n.to_be_bytes().to_vec(),
            Message::Chat(c) => json(c),
            Message::Control(v) => json(v),
            Message::FileOffer(o) => json(o),
            Message::FileChunk { id, offset, data } => {
                let mut out = Vec::with_capacity(12usize.saturating_add(data.len()));
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&offset.to_be_bytes());
                out.extend_from_slice(data);
                out
            }
            Message::FileEnd(e) => json(e),
            Message::Screen { last, data } => {
                let mut out = Vec::with_capacity(data.len().saturating_add(1));
                out.push(u8::from(*last));
                out.extend_from_slice(data);
                out
            }
            Message::Input(event) => event.encode(),
            Message::Clipboard(text) => text.as_bytes().to_vec(),
        }
    }

    /// Decode the body of a message of type `kind`.
    pub fn decode_body(kind: MessageType, body: &[u8]) -> Result<Message, MessageError> {
        fn json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, MessageError> {
            serde_json::from_slice(body).map_err(|e| MessageError::Json(e.to_string()))
        }
        Ok(match kind {
            MessageType::Roster => Message::Roster(json(body)?),
            MessageType::Ack => Message::Ack(decode_positions(body)?),
            MessageType::Sync => {
                let (epoch, rest) = body
                    .split_first_chunk::<4>()
                    .ok_or(MessageError::Truncated("epoch"))?;
                Message::Sync {
                    epoch: u32::from_be_bytes(*epoch),
                    positions: decode_positions(rest)?,
                }
            }
            MessageType::StreamStart => {
                let n: [u8; 8] = body
                    .try_into()
                    .map_err(|_| MessageError::Truncated("stream start"))?;
                Message::StreamStart(u64::from_be_bytes(n))
            }
            MessageType::Chat => Message::Chat(json(body)?),
            MessageType::Control => {
                let value: serde_json::Value = json(body)?;
                if !value.is_object() {
                    return Err(MessageError::Invalid("control body (not an object)"));
                }
                Message::Control(value)
            }
            MessageType::FileOffer => Message::FileOffer(json(body)?),
            MessageType::FileChunk => {
                let (id, rest) = body
                    .split_first_chunk::<4>()
                    .ok_or(MessageError::Truncated("file id"))?;
                let (offset, data) = rest
                    .split_first_chunk::<8>()
                    .ok_or(MessageError::Truncated("file offset"))?;
                if data.len() > MAX_FILE_CHUNK {
                    return Err(MessageError::Invalid("file chunk (too large)"));
                }
                Message::FileChunk {
                    id: u32::from_be_bytes(*id),
                    offset: u64::from_be_bytes(*offset),
                    data: data.to_vec(),
                }
            }
            MessageType::FileEnd => Message::FileEnd(json(body)?),
            MessageType::Screen => {
                let (&last, data) = body
                    .split_first()
                    .ok_or(MessageError::Truncated("screen piece"))?;
                if last > 1 {
                    return Err(MessageError::Invalid("screen piece flag"));
                }
                if data.is_empty() || data.len() > MAX_SCREEN_PIECE {
                    return Err(MessageError::Invalid("screen piece length"));
                }
                Message::Screen {
                    last: last == 1,
                    data: data.to_vec(),
                }
            }
            MessageType::Input => Message::Input(InputEvent::decode(body)?),
            MessageType::Clipboard => {
                if body.len() > MAX_CLIPBOARD {
                    return Err(MessageError::Invalid("clipboard text (too long)"));
                }
                let text = std::str::from_utf8(body)
                    .map_err(|_| MessageError::Invalid("clipboard text (not UTF-8)"))?;
                Message::Clipboard(text.to_owned())
            }
        })
    }
}

const POSITION_LEN: usize = 13;
/// Most stream positions in one Ack or Sync.
pub const MAX_POSITIONS: usize = 512;

fn encode_positions(positions: &[StreamPosition]) -> Vec<u8> {
    let count = positions.len().min(MAX_POSITIONS);
    let mut out = Vec::with_capacity(2usize.saturating_add(count.saturating_mul(POSITION_LEN)));
    out.extend_from_slice(&u16::try_from(count).unwrap_or(0).to_be_bytes());
    for p in positions.iter().take(count) {
        out.extend_from_slice(&p.sender.0.to_be_bytes());
        out.push(match p.stream {
            Stream::Broadcast => 0,
            Stream::Direct => 1,
        });
        out.extend_from_slice(&p.next.to_be_bytes());
    }
    out
}

fn decode_positions(body: &[u8]) -> Result<Vec<StreamPosition>, MessageError> {
    let (count, rest) = body
        .split_first_chunk::<2>()
        .ok_or(MessageError::Truncated("position count"))?;
    let count = usize::from(u16::from_be_bytes(*count));
    if count > MAX_POSITIONS {
        return Err(MessageError::Invalid("position count"));
    }
    if rest.len() != count.saturating_mul(POSITION_LEN) {
        return Err(MessageError::Truncated("positions"));
    }
    rest.chunks_exact(POSITION_LEN)
        .map(|c| {
            let (sender, rest) = c
                .split_first_chunk::<4>()
                .ok_or(MessageError::Truncated("sender"))?;
            let (&stream, next) = rest
                .split_first()
                .ok_or(MessageError::Truncated("stream"))?;
            let next: [u8; 8] = next
                .try_into()
                .map_err(|_| MessageError::Truncated("next"))?;
            Ok(StreamPosition {
                sender: MemberId(u32::from_be_bytes(*sender)),
                stream: decode_stream(stream)?,
                next: u64::from_be_bytes(next),
            })
        })
        .collect()
}

fn decode_stream(b: u8) -> Result<Stream, MessageError> {
    match b {
        0 => Ok(Stream::Broadcast),
        1 => Ok(Stream::Direct),
        _ => Err(MessageError::Invalid("stream")),
    }
}

/// The reliable header of a message, when it has one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reliable {
    /// Which stream.
    pub stream: Stream,
    /// Sequence number in that stream.
    pub rseq: u64,
}

/// Encode a message's plaintext (type, reliable header if any, body).
pub fn encode(message: &Message, reliable: Option<Reliable>) -> Vec<u8> {
    let body = message.encode_body();
    let mut out = Vec::with_capacity(10usize.saturating_add(body.len()));
    out.push(message.kind().byte());
    if let Some(r) = reliable {
        out.push(match r.stream {
            Stream::Broadcast => 0,
            Stream::Direct => 1,
        });
        out.extend_from_slice(&r.rseq.to_be_bytes());
    }
    out.extend_from_slice(&body);
    out
}

/// Split a plaintext into type, reliable header (for reliable types) and body.
pub fn split(plaintext: &[u8]) -> Result<(MessageType, Option<Reliable>, &[u8]), MessageError> {
    let (&kind, rest) = plaintext.split_first().ok_or(MessageError::Empty)?;
    let kind = MessageType::from_byte(kind).ok_or(MessageError::UnknownType(kind))?;
    if !kind.reliable() {
        return Ok((kind, None, rest));
    }
    let (&stream, rest) = rest
        .split_first()
        .ok_or(MessageError::Truncated("stream"))?;
    let (rseq, body) = rest
        .split_first_chunk::<8>()
        .ok_or(MessageError::Truncated("sequence"))?;
    Ok((
        kind,
        Some(Reliable {
            stream: decode_stream(stream)?,
            rseq: u64::from_be_bytes(*rseq),
        }),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(m: Message, reliable: Option<Reliable>) {
        let bytes = encode(&m, reliable);
        let (kind, header, body) = split(&bytes).unwrap();
        assert_eq!(kind, m.kind());
        assert_eq!(header, reliable);
        assert_eq!(Message::decode_body(kind, body).unwrap(), m);
    }

    #[test]
    fn every_type_round_trips() {
        let r = Some(Reliable {
            stream: Stream::Direct,
            rseq: 42,
        });
        round_trip(
            Message::Roster(Roster {
                epoch: 3,
                leader: 1,
                members: vec![RosterEntry {
                    id: 2,
                    role: "customer".into(),
                    permissions: vec!["view".into()],
                }],
            }),
            r,
        );
        let positions = vec![StreamPosition {
            sender: MemberId(5),
            stream: Stream::Broadcast,
            next: 17,
        }];
        round_trip(Message::Ack(positions.clone()), None);
        round_trip(
            Message::Sync {
                epoch: 4,
                positions,
            },
            None,
        );
        round_trip(Message::StreamStart(77), r);
        round_trip(
            Message::Chat(Chat {
                text: "Grüezi".into(),
            }),
            r,
        );
        round_trip(Message::Control(serde_json::json!({"end": true})), r);
        round_trip(
            Message::FileOffer(FileOffer {
                id: 1,
                name: "log.txt".into(),
                size: 10,
            }),
            r,
        );
        round_trip(
            Message::FileChunk {
                id: 1,
                offset: 1 << 40,
                data: vec![1, 2, 3],
            },
            r,
        );
        round_trip(
            Message::FileEnd(FileEnd {
                id: 1,
                sha256: "00".repeat(32),
            }),
            r,
        );
        round_trip(
            Message::Screen {
                last: true,
                data: vec![0x10, 0, 0, 0, 9],
            },
            r,
        );
        round_trip(Message::Input(InputEvent::Text("ß".into())), r);
        round_trip(Message::Clipboard("copied".into()), r);
    }

    #[test]
    fn bad_messages_are_typed_errors() {
        assert_eq!(split(&[]).err(), Some(MessageError::Empty));
        assert_eq!(split(&[0x7e]).err(), Some(MessageError::UnknownType(0x7e)));
        assert_eq!(
            split(&[0x10, 0]).err(),
            Some(MessageError::Truncated("sequence"))
        );
        assert_eq!(
            split(&[0x10, 9, 0, 0, 0, 0, 0, 0, 0, 0]).err(),
            Some(MessageError::Invalid("stream"))
        );
        assert!(matches!(
            Message::decode_body(MessageType::Chat, b"{not json"),
            Err(MessageError::Json(_))
        ));
        assert_eq!(
            Message::decode_body(MessageType::Control, b"[1]").err(),
            Some(MessageError::Invalid("control body (not an object)"))
        );
        assert_eq!(
            Message::decode_body(MessageType::Ack, &[0, 2, 0]).err(),
            Some(MessageError::Truncated("positions"))
        );
        let big = vec![0u8; 12 + MAX_FILE_CHUNK + 1];
        assert_eq!(
            Message::decode_body(MessageType::FileChunk, &big).err(),
            Some(MessageError::Invalid("file chunk (too large)"))
        );
    }
}
