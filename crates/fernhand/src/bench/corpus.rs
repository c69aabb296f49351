//! Screen corpora for `bench codec`: a folder of sequences, each a
//! sub-folder of frames `00000.png`, `00001.png`, … (8-bit RGB or RGBA, all
//! the same size or not), in name order. Anyone can bring their own screens
//! in this format; `scripts/record-screen-corpus` records real programs
//! under Xvfb with [`record`].

use anyhow::{Context, bail};
use fernhand_screen::Frame;
use fernhand_screen::capture;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// One sequence of frames.
pub struct Sequence {
    /// Its folder's name.
    pub name: String,
    /// The frames, in order.
    pub frames: Vec<Frame>,
}

/// Read a PNG file as a frame.
pub fn read_png(path: &Path) -> anyhow::Result<Frame> {
    let file = std::fs::File::open(path).with_context(|| path.display().to_string())?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info()?;
    let size = reader
        .output_buffer_size()
        .context("PNG too large for memory")?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf)?;
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Indexed => bail!("{}: indexed PNG after expansion", path.display()),
    };
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match channels {
            1 | 2 => u32::from(p[0]) * 0x0001_0101,
            _ => (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2]),
        })
        .collect();
    let (w, h) = (
        u16::try_from(info.width).context("frame wider than 65535")?,
        u16::try_from(info.height).context("frame taller than 65535")?,
    );
    Frame::from_pixels(w, h, pixels).context("PNG size mismatch")
}

/// Write a frame as an RGB PNG (fast compression).
pub fn write_png(path: &Path, frame: &Frame) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
    let mut encoder = png::Encoder::new(
        std::io::BufWriter::new(file),
        u32::from(frame.width()),
        u32::from(frame.height()),
    );
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    let rgb: Vec<u8> = frame
        .pixels()
        .iter()
        .flat_map(|p| {
            let [_, r, g, b] = p.to_be_bytes();
            [r, g, b]
        })
        .collect();
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(())
}

/// Every sequence under `dir` (sub-folders with at least two PNG frames).
pub fn load(dir: &Path) -> anyhow::Result<Vec<Sequence>> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "no screen corpus at {} (record one with scripts/record-screen-corpus, or give --corpus)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    let mut out = Vec::new();
    for folder in folders {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("png")))
            .collect();
        files.sort();
        if files.len() < 2 {
            continue;
        }
        let frames = files
            .iter()
            .map(|f| read_png(f))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push(Sequence { name, frames });
    }
    if out.is_empty() {
        bail!(
            "{}: no sequences (sub-folders of numbered PNG frames)",
            dir.display()
        );
    }
    Ok(out)
}

/// `fernhand record-screen`: capture the display `frames` times, every
/// `interval_ms`, into `out/00000.png`, ….
pub fn record(out: &Path, frames: u32, interval_ms: u64) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(out)?;
    if std::fs::read_dir(out)?.next().is_some() {
        bail!("{} is not empty", out.display());
    }
    let mut source = capture::open()?;
    let mut frame = Frame::new(0, 0);
    let every = Duration::from_millis(interval_ms);
    let start = Instant::now();
    for i in 0..frames {
        source.capture(&mut frame)?;
        write_png(&out.join(format!("{i:05}.png")), &frame)?;
        let next = every * (i + 1);
        if let Some(wait) = next.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    println!("{frames} frames in {}", out.display());
    Ok(ExitCode::SUCCESS)
}
