//! Input events an expert sends to the host it controls: fixed binary
//! layouts (all integers big-endian), never compressed.
//!
//! ```text
//! 01 | x (i32) | y (i32)          pointer to (x, y) on the whole screen
//! 02 | button (1) | down (1)      button: 1 left, 2 middle, 3 right, 8 back, 9 forward
//! 03 | dx (i16) | dy (i16)        wheel notches (dy > 0: down)
//! 04 | code (u32) | down (1)      key by the host platform's key code
//! 05 | modifier (1) | down (1)    1 shift, 2 control, 3 alt, 4 super
//! 06 | UTF-8 text (1–1024 bytes)  type this text, whatever the keyboard layout
//! 07 | sequence (1)               1: Ctrl+Alt+Del
//! ```
//!
//! `down` is 0 or 1; anything else is refused, as is any trailing byte.

use crate::message::MessageError;

/// Longest text in one text event, in bytes.
pub const MAX_TEXT: usize = 1024;

/// A pointer button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointerButton {
    /// Left.
    Left,
    /// Middle.
    Middle,
    /// Right.
    Right,
    /// Back (side).
    Back,
    /// Forward (side).
    Forward,
}

/// A modifier key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModifierKey {
    /// Shift.
    Shift,
    /// Control.
    Control,
    /// Alt.
    Alt,
    /// Super.
    Super,
}

/// One input event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InputEvent {
    /// Pointer to a position on the whole screen.
    Move {
        /// Left.
        x: i32,
        /// Top.
        y: i32,
    },
    /// Button press or release at the pointer.
    Button {
        /// Which.
        button: PointerButton,
        /// Pressed.
        down: bool,
    },
    /// Wheel notches.
    Wheel {
        /// Right (negative: left).
        dx: i16,
        /// Down (negative: up).
        dy: i16,
    },
    /// Key by the host's key code.
    Key {
        /// Platform key code.
        code: u32,
        /// Pressed.
        down: bool,
    },
    /// A modifier.
    Modifier {
        /// Which.
        key: ModifierKey,
        /// Pressed.
        down: bool,
    },
    /// Text to type.
    Text(String),
    /// Ctrl+Alt+Del.
    CtrlAltDel,
}

fn down_byte(b: u8) -> Result<bool, MessageError> {
    match b {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(MessageError::Invalid("input down flag")),
    }
}

impl InputEvent {
    /// The body bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9);
        match self {
            InputEvent::Move { x, y } => {
                out.push(0x01);
                out.extend_from_slice(&x.to_be_bytes());
                out.extend_from_slice(&y.to_be_bytes());
            }
            InputEvent::Button { button, down } => {
                out.push(0x02);
                out.push(match button {
                    PointerButton::Left => 1,
                    PointerButton::Middle => 2,
                    PointerButton::Right => 3,
                    PointerButton::Back => 8,
                    PointerButton::Forward => 9,
                });
                out.push(u8::from(*down));
            }
            InputEvent::Wheel { dx, dy } => {
                out.push(0x03);
                out.extend_from_slice(&dx.to_be_bytes());
                out.extend_from_slice(&dy.to_be_bytes());
            }
            InputEvent::Key { code, down } => {
                out.push(0x04);
                out.extend_from_slice(&code.to_be_bytes());
                out.push(u8::from(*down));
            }
            InputEvent::Modifier { key, down } => {
                out.push(0x05);
                out.push(match key {
                    ModifierKey::Shift => 1,
                    ModifierKey::Control => 2,
                    ModifierKey::Alt => 3,
                    ModifierKey::Super => 4,
                });
                out.push(u8::from(*down));
            }
            InputEvent::Text(text) => {
                out.push(0x06);
                out.extend_from_slice(text.as_bytes());
            }
            InputEvent::CtrlAltDel => out.extend_from_slice(&[0x07, 0x01]),
        }
        out
    }

    /// Parse a body.
    pub fn decode(body: &[u8]) -> Result<InputEvent, MessageError> {
        let (&kind, rest) = body.split_first().ok_or(MessageError::Truncated("input"))?;
        let exact = |n: usize| -> Result<(), MessageError> {
            if rest.len() == n {
                Ok(())
            } else {
                Err(MessageError::Invalid("input event length"))
            }
        };
        let byte = |i: usize| rest.get(i).copied().unwrap_or(0);
        let be16 = |i: usize| i16::from_be_bytes([byte(i), byte(i + 1)]);
        let be32 = |i: usize| [byte(i), byte(i + 1), byte(i + 2), byte(i + 3)];
        Ok(match kind {
            0x01 => {
                exact(8)?;
                InputEvent::Move {
                    x: i32::from_be_bytes(be32(0)),
                    y: i32::from_be_bytes(be32(4)),
                }
            }
            0x02 => {
                exact(2)?;
                let button = match byte(0) {
                    1 => PointerButton::Left,
                    2 => PointerButton::Middle,
                    3 => PointerButton::Right,
                    8 => PointerButton::Back,
                    9 => PointerButton::Forward,
                    _ => return Err(MessageError::Invalid("pointer button")),
                };
                InputEvent::Button {
                    button,
                    down: down_byte(byte(1))?,
                }
            }
            0x03 => {
                exact(4)?;
                InputEvent::Wheel {
                    dx: be16(0),
                    dy: be16(2),
                }
            }
            0x04 => {
                exact(5)?;
                InputEvent::Key {
                    code: u32::from_be_bytes(be32(0)),
                    down: down_byte(byte(4))?,
                }
            }
            0x05 => {
                exact(2)?;
                let key = match byte(0) {
                    1 => ModifierKey::Shift,
                    2 => ModifierKey::Control,
                    3 => ModifierKey::Alt,
                    4 => ModifierKey::Super,
                    _ => return Err(MessageError::Invalid("modifier")),
                };
                InputEvent::Modifier {
                    key,
                    down: down_byte(byte(1))?,
                }
            }
            0x06 => {
                if rest.is_empty() || rest.len() > MAX_TEXT {
                    return Err(MessageError::Invalid("input text length"));
                }
                let text = std::str::from_utf8(rest)
                    .map_err(|_| MessageError::Invalid("input text (not UTF-8)"))?;
                InputEvent::Text(text.to_owned())
            }
            0x07 => {
                exact(1)?;
                if byte(0) != 1 {
                    return Err(MessageError::Invalid("special sequence"));
                }
                InputEvent::CtrlAltDel
            }
            _ => return Err(MessageError::Invalid("input event kind")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_round_trips_and_has_its_documented_bytes() {
        let cases = [
            (
                InputEvent::Move { x: 1919, y: -1 },
                vec![1, 0, 0, 0x07, 0x7f, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                InputEvent::Button {
                    button: PointerButton::Right,
                    down: true,
                },
                vec![2, 3, 1],
            ),
            (
                InputEvent::Wheel { dx: 0, dy: -2 },
                vec![3, 0, 0, 0xff, 0xfe],
            ),
            (
                InputEvent::Key {
                    code: 36,
                    down: false,
                },
                vec![4, 0, 0, 0, 36, 0],
            ),
            (
                InputEvent::Modifier {
                    key: ModifierKey::Control,
                    down: true,
                },
                vec![5, 2, 1],
            ),
            (InputEvent::Text("né".into()), vec![6, b'n', 0xc3, 0xa9]),
            (InputEvent::CtrlAltDel, vec![7, 1]),
        ];
        for (event, bytes) in cases {
            assert_eq!(event.encode(), bytes, "{event:?}");
            assert_eq!(InputEvent::decode(&bytes), Ok(event));
        }
    }

    #[test]
    fn malformed_events_are_refused() {
        for bad in [
            &[][..],
            &[1, 0, 0],
            &[2, 4, 1],
            &[2, 1, 2],
            &[5, 9, 0],
            &[6],
            &[6, 0xff],
            &[7, 2],
            &[0x99],
            &[4, 0, 0, 0, 1, 0, 0],
        ] {
            assert!(InputEvent::decode(bad).is_err(), "{bad:?}");
        }
        let long = [vec![6u8], vec![b'a'; MAX_TEXT + 1]].concat();
        assert_eq!(
            InputEvent::decode(&long),
            Err(MessageError::Invalid("input text length"))
        );
    }
}
