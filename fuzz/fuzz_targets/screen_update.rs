//! Screen stream messages from the network: parsing never panics, and an
//! update either applies or leaves the viewer's picture as it was.
#![no_main]

use fernhand_screen::decode::Decoder;
use fernhand_screen::wire::{self, Message, Op, Update};
use fernhand_screen::Rect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new();
    let start = Update {
        seq: 0,
        keyframe: true,
        width: 64,
        height: 48,
        // A palette tile fills cache slot 0, so references can hit.
        ops: vec![
            Op::Solid { rect: Rect::new(0, 0, 64, 48), rgb: 0x0012_3456 },
            Op::Palette {
                rect: Rect::new(0, 0, 4, 3),
                colours: vec![0x00FF_FFFF, 0],
                indices: vec![0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1],
            },
        ],
    };
    if decoder.apply(&start).is_err() {
        return;
    }
    if let Ok(Message::Update(u)) = wire::decode(data) {
        let before = decoder.picture().clone();
        if decoder.apply(&u).is_err() {
            assert_eq!(decoder.picture(), &before, "a refused update changed the picture");
        } else {
            assert_eq!(decoder.picture().width(), u.width);
            assert_eq!(decoder.picture().height(), u.height);
        }
    }
});
