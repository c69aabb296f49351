//! The screen stream examples of `docs/protocol.md` §9: each `encode`
//! example is what the encoder writes for the message described, and each
//! `decode` example parses to it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fernhand_screen::Rect;
use fernhand_screen::wire::{self, Message, MonitorLayout, Op, Update};
use std::collections::HashMap;

/// An H.264 IDR picture of 16 × 16 pixels of `30 50 70` (with its SPS and
/// PPS), as openh264 made it at quantiser 25.
const VIDEO_16X16: &str = "000000016742c0298c69e9a83030303c2211a80000000168ce3c800000000165b80004788c500010578e00052380013c";

fn examples() -> HashMap<String, (String, Vec<u8>)> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/protocol.md"
    ))
    .unwrap();
    let start = doc
        .find("<!-- screen-examples -->")
        .expect("examples block");
    let end = doc.find("<!-- /screen-examples -->").expect("examples end");
    doc[start..end]
        .lines()
        .filter_map(|l| {
            let (mode, rest) = l.split_once(' ')?;
            if mode != "encode" && mode != "decode" {
                return None;
            }
            let (name, hex_bytes) = rest.split_once(':')?;
            Some((
                name.trim().to_owned(),
                (mode.to_owned(), hex::decode(hex_bytes.trim()).unwrap()),
            ))
        })
        .collect()
}

fn expected(name: &str) -> Message {
    match name {
        "update-copy-solid" => Message::Update(Update {
            seq: 7,
            keyframe: false,
            width: 16,
            height: 8,
            ops: vec![
                Op::Copy {
                    src: Rect::new(0, 2, 16, 6),
                    dst_x: 0,
                    dst_y: 0,
                },
                Op::Solid {
                    rect: Rect::new(0, 6, 16, 2),
                    rgb: 0x0020_3040,
                },
            ],
        }),
        "cursor-position" => Message::CursorPosition {
            id: 3,
            x: 100,
            y: 200,
            visible: true,
        },
        "ack" => Message::Ack { seq: 7 },
        "refresh" => Message::Refresh,
        "update-palette" => Message::Update(Update {
            seq: 1,
            keyframe: true,
            width: 16,
            height: 8,
            ops: vec![
                Op::Solid {
                    rect: Rect::new(0, 0, 16, 8),
                    rgb: 0x0030_5070,
                },
                Op::Palette {
                    rect: Rect::new(8, 0, 8, 2),
                    colours: vec![0x00FF_FFFF, 0],
                    indices: vec![1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0],
                },
                Op::Copy {
                    src: Rect::new(8, 0, 8, 2),
                    dst_x: 0,
                    dst_y: 6,
                },
            ],
        }),
        "update-cached" => Message::Update(Update {
            seq: 12,
            keyframe: false,
            width: 16,
            height: 8,
            ops: vec![Op::Cached {
                rect: Rect::new(4, 2, 4, 3),
                slot: 5,
            }],
        }),
        "monitors" => Message::Monitors(vec![
            MonitorLayout {
                name: "DP-1".into(),
                rect: Rect::new(0, 0, 1920, 1080),
                primary: true,
            },
            MonitorLayout {
                name: "HDMI-1".into(),
                rect: Rect::new(1920, 0, 1280, 1024),
                primary: false,
            },
        ]),
        "update-video" => Message::Update(Update {
            seq: 9,
            keyframe: false,
            width: 16,
            height: 16,
            ops: vec![Op::Video {
                rect: Rect::new(0, 0, 16, 16),
                new_stream: true,
                data: hex::decode(VIDEO_16X16).unwrap(),
            }],
        }),
        other => panic!("no expectation for example {other}"),
    }
}

#[test]
fn every_documented_example_holds() {
    let all = examples();
    assert_eq!(all.len(), 8, "{:?}", all.keys());
    for (name, (mode, bytes)) in all {
        let want = expected(&name);
        assert_eq!(wire::decode(&bytes).unwrap(), want, "{name} decodes");
        if mode == "encode" {
            assert_eq!(
                wire::encode(&want, 6),
                bytes,
                "{name} encodes byte for byte"
            );
        } else {
            // Our own bytes for it differ in the zlib part only, and parse back.
            assert_eq!(wire::decode(&wire::encode(&want, 6)).unwrap(), want);
        }
    }
}

#[test]
fn the_video_example_shows_its_colour() {
    let Message::Update(update) = expected("update-video") else {
        panic!("not an update")
    };
    let mut decoder = fernhand_screen::decode::Decoder::new();
    decoder.apply(&update).unwrap();
    for &p in decoder.picture().pixels() {
        for (got, want) in p.to_be_bytes()[1..].iter().zip([0x30u8, 0x50, 0x70]) {
            assert!(got.abs_diff(want) <= 4, "{p:06x}");
        }
    }
    // A second picture without a new stream over another rectangle is refused.
    let Op::Video { data, .. } = &update.ops[0] else {
        panic!("not video")
    };
    let stray = Update {
        seq: 10,
        ops: vec![Op::Video {
            rect: Rect::new(0, 0, 8, 8),
            new_stream: false,
            data: data.clone(),
        }],
        ..update.clone()
    };
    assert!(decoder.apply(&stray).is_err());
}
