//! Compressed copies of a cached answer, made once and served to every client that accepts
//! them (`Accept-Encoding: br` or `gzip`) instead of compressing the same body on every hit.
//! Each copy is made at its first request and kept beside the body; the cache reserves a
//! quarter of the body's size for them, and a copy that would weigh more is not kept (the
//! answer then goes through the compression layer as any other).

use bytes::Bytes;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// Bodies smaller than this are sent as they are (the compression layer's own threshold).
pub const MIN_BYTES: usize = 1024;

/// The encodings kept, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Br => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The best encoding `accept_encoding` allows (a `q=0` refuses one).
    pub fn chosen(accept_encoding: &str) -> Option<Encoding> {
        let allowed = |name: &str| {
            accept_encoding.split(',').any(|part| {
                let mut fields = part.split(';');
                let coding = fields.next().unwrap_or("").trim();
                let refused = fields.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
        };
        [Encoding::Br, Encoding::Gzip]
            .into_iter()
            .find(|e| allowed(e.as_str()))
    }
}

/// The room a body's compressed copies may take, counted in the cache's byte bound.
pub fn reserve(body_len: usize) -> usize {
    if body_len < MIN_BYTES {
        0
    } else {
        body_len / 4
    }
}

/// The compressed copies of one body, each made at most once.
#[derive(Debug, Clone, Default)]
pub struct Variants {
    br: Arc<OnceLock<Option<Bytes>>>,
    gzip: Arc<OnceLock<Option<Bytes>>>,
}

impl Variants {
    /// `body` in `encoding`, made now if it is the first request for it; `None` when the
    /// body is too small or its copy would not fit the room reserved for it.
    pub fn get(&self, encoding: Encoding, body: &Bytes) -> Option<Bytes> {
        let room = reserve(body.len());
        if room == 0 {
            return None;
        }
        let slot = match encoding {
            Encoding::Br => &self.br,
            Encoding::Gzip => &self.gzip,
        };
        slot.get_or_init(|| {
            // Each copy may take half the room, so both together stay within it.
            compress(encoding, body)
                .filter(|c| c.len() <= room / 2)
                .map(Bytes::from)
        })
        .clone()
    }
}

fn compress(encoding: Encoding, body: &[u8]) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Gzip => {
            let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            w.write_all(body).ok()?;
            w.finish().ok()
        }
        Encoding::Br => {
            let mut out = Vec::new();
            {
                // Quality 5: most of brotli's gain at a fraction of its slowest settings.
                let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
                w.write_all(body).ok()?;
                w.flush().ok()?;
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(Encoding::chosen("gzip, deflate, br"), Some(Encoding::Br));
        assert_eq!(Encoding::chosen("gzip"), Some(Encoding::Gzip));
        assert_eq!(Encoding::chosen("br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(Encoding::chosen("GZIP"), Some(Encoding::Gzip));
        assert_eq!(Encoding::chosen("identity"), None);
        assert_eq!(Encoding::chosen("gzip;q=0"), None);
        assert_eq!(Encoding::chosen(""), None);
        assert_eq!(Encoding::chosen("xgzip"), None);
    }

    #[test]
    fn copies_decode_to_the_body_and_are_made_once() {
        let body = Bytes::from(
            serde_json::json!({"html": "<p>Hello, reader.</p>".repeat(400)}).to_string(),
        );
        let v = Variants::default();
        let gz = v.get(Encoding::Gzip, &body).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        // The same bytes (the same allocation) the second time.
        assert_eq!(v.get(Encoding::Gzip, &body).unwrap().as_ptr(), gz.as_ptr());
        let br = v.get(Encoding::Br, &body).unwrap();
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        assert!(gz.len() + br.len() <= reserve(body.len()));
    }

    #[test]
    fn small_or_incompressible_bodies_have_no_copy() {
        let v = Variants::default();
        assert!(v.get(Encoding::Gzip, &Bytes::from_static(b"{}")).is_none());
        // Random bytes do not shrink to a quarter.
        let noise: Vec<u8> = (0..4096_u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert!(v.get(Encoding::Gzip, &Bytes::from(noise)).is_none());
    }
}
