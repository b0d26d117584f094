//! Deterministic randomness and ids: SplitMix64 streams addressed by a
//! seed and a label or a number, so each generated thing depends on the
//! seed and its own index alone, and ids derived from them.
use uuid::Uuid;

/// SplitMix64: a tiny, fast, well-mixed generator, one stream per purpose.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// The SplitMix64 finalizer.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The stream `label`/`i` of `seed`.
    pub fn new(seed: u64, label: &str, i: u64) -> Self {
        let mut h = mix(seed);
        for b in label.bytes() {
            h = mix(h ^ u64::from(b));
        }
        Self(mix(h ^ i.wrapping_mul(0xA24B_AED4_963E_E407)))
    }

    /// Item `n` of the numbered stream `kind` of `seed`, independent of the
    /// others (for data made by index, never held in memory).
    pub fn at(seed: u64, kind: u64, n: u64) -> Self {
        Self(mix(mix(seed ^ kind.wrapping_mul(0xA24B_AED4_963E_E407)) ^ n))
    }

    /// A stream started straight from `state`.
    pub fn seeded(state: u64) -> Self {
        Self(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when n is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as u64) as i64
    }

    /// True with probability `pct` percent.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }

    /// Uniform in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// A word of `xs`.
    pub fn word(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// An index by weight.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut r = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        weights.len() - 1
    }

    /// A uniform float in `-1.0..1.0`.
    pub fn signed_unit(&mut self) -> f64 {
        (self.below(2_000_001) as f64 - 1_000_000.0) / 1_000_000.0
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// The namespace of every id derived by name.
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://zoufang.example/zfdemo")
}

/// The id named `name` under `seed` (a UUIDv5).
pub fn id(seed: u64, name: &str) -> Uuid {
    Uuid::new_v5(&namespace(), format!("{seed}/{name}").as_bytes())
}

/// A (version 4 shaped) uuid for item `n` of the numbered stream `kind`.
pub fn uuid_of(seed: u64, kind: u64, n: u64) -> Uuid {
    let mut r = Rng::at(seed, kind, n);
    let mut b = [0u8; 16];
    r.fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// A number in `0..100` from an id and a number, the same on every run.
pub fn bucket(id: Uuid, n: i32) -> u64 {
    let x = id.as_u128();
    mix((x as u64) ^ ((x >> 64) as u64) ^ (n as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)) % 100
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_independent() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, "x", 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::new(7, "x", 1).next_u64(),
            Rng::new(7, "x", 2).next_u64()
        );
        assert_ne!(
            Rng::new(7, "x", 1).next_u64(),
            Rng::new(7, "y", 1).next_u64()
        );
        assert_ne!(Rng::at(7, 1, 1).next_u64(), Rng::at(7, 2, 1).next_u64());
        assert_eq!(uuid_of(9, 2, 5), uuid_of(9, 2, 5));
        assert_eq!(uuid_of(9, 2, 5).get_version_num(), 4);
        assert_eq!(id(1, "a"), id(1, "a"));
        assert_ne!(id(1, "a"), id(2, "a"));
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::at(1, 1, 1);
        for _ in 0..1000 {
            assert!((3..=5).contains(&r.range(3, 5)));
            assert!((0.0..1.0).contains(&r.unit()));
            assert!((-1.0..=1.0).contains(&r.signed_unit()));
            assert_eq!(r.below(0), 0);
        }
        assert_eq!(r.weighted(&[0, 5, 0]), 1);
    }
}
