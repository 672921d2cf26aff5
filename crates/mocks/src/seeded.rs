//! Deterministic "random" numbers: the same seed and key always give the same value,
//! so analytics and ids are reproducible and tests can assert on them.

/// A 64-bit hash of the seed and key parts (FNV-1a, then a splitmix finaliser).
pub fn hash(seed: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xff)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix(h)
}

pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A number in `lo..=hi` for this seed and key.
pub fn range(seed: u64, parts: &[&str], lo: u64, hi: u64) -> u64 {
    lo + hash(seed, parts) % (hi - lo + 1)
}

/// A fraction in `[0, 1)`.
pub fn unit(seed: u64, parts: &[&str]) -> f64 {
    (hash(seed, parts) >> 11) as f64 / (1u64 << 53) as f64
}

/// A UUID-shaped id derived from the seed, a kind and a sequence number.
pub fn id(seed: u64, kind: &str, n: u64) -> String {
    let a = hash(seed, &[kind, &n.to_string()]);
    let b = mix(a ^ 0x9e37_79b9_7f4a_7c15);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_outputs() {
        assert_eq!(range(7, &["a"], 1, 10), range(7, &["a"], 1, 10));
        assert_ne!(id(7, "email", 1), id(7, "email", 2));
        assert_ne!(id(7, "email", 1), id(8, "email", 1));
        let u = unit(1, &["x"]);
        assert!((0.0..1.0).contains(&u));
        assert_eq!(id(1, "k", 1).len(), 36);
    }
}
