//! SpookyHash V2 (Bob Jenkins), 128-bit: the chunk ids of incremental file transfer.
//!
//! A chunk id is the hash of the chunk's bytes with both seeds 0, written as the two 64-bit
//! halves little-endian (16 bytes), base64-encoded in JSON ([`crate::chunking::ChunkId`]).
//! [`hash128`] hashes a slice; [`Hasher`] does the same over pieces, with the same result however
//! the input is split, so a chunk streamed to storage is hashed without being held in memory.

const CONST: u64 = 0xdead_beef_dead_beef;
/// Words of the long state.
const VARS: usize = 12;
/// Bytes of one block of the long hash.
const BLOCK: usize = VARS * 8;
/// Inputs shorter than this use the short hash.
const BUF: usize = 2 * BLOCK;

fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

/// Up to eight bytes as a little-endian number, the missing high bytes zero.
fn partial(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(w)
}

const MIX_ROT: [u32; VARS] = [11, 32, 43, 31, 17, 28, 39, 57, 55, 54, 22, 46];
const END_ROT: [u32; VARS] = [44, 15, 34, 21, 38, 33, 10, 13, 38, 53, 42, 54];

fn mix(block: &[u8], h: &mut [u64; VARS]) {
    for i in 0..VARS {
        h[i] = h[i].wrapping_add(word(block, i));
        h[(i + 2) % VARS] ^= h[(i + 10) % VARS];
        h[(i + 11) % VARS] ^= h[i];
        h[i] = h[i].rotate_left(MIX_ROT[i]);
        h[(i + 11) % VARS] = h[(i + 11) % VARS].wrapping_add(h[(i + 1) % VARS]);
    }
}

fn end_partial(h: &mut [u64; VARS]) {
    for i in 0..VARS {
        h[(i + 11) % VARS] = h[(i + 11) % VARS].wrapping_add(h[(i + 1) % VARS]);
        h[(i + 2) % VARS] ^= h[(i + 11) % VARS];
        h[(i + 1) % VARS] = h[(i + 1) % VARS].rotate_left(END_ROT[i]);
    }
}

/// The last block: the remaining bytes (fewer than [`BLOCK`]) zero-padded, their count in the
/// last byte.
fn end(rest: &[u8], h: &mut [u64; VARS]) {
    let mut block = [0u8; BLOCK];
    block[..rest.len()].copy_from_slice(rest);
    // Fewer than 96 bytes: the count fits.
    block[BLOCK - 1] = rest.len() as u8;
    for (i, v) in h.iter_mut().enumerate() {
        *v = v.wrapping_add(word(&block, i));
    }
    end_partial(h);
    end_partial(h);
    end_partial(h);
}

fn short_mix(h: &mut [u64; 4]) {
    const ROT: [[u32; 4]; 3] = [[50, 52, 30, 41], [54, 48, 38, 37], [62, 34, 5, 36]];
    for rots in ROT {
        for (i, r) in rots.into_iter().enumerate() {
            let (a, b) = ((i + 2) % 4, (i + 3) % 4);
            h[a] = h[a].rotate_left(r).wrapping_add(h[b]);
            h[i] ^= h[a];
        }
    }
}

fn short_end(h: &mut [u64; 4]) {
    const ROT: [u32; 11] = [15, 52, 26, 51, 28, 9, 47, 54, 32, 25, 63];
    for (k, r) in ROT.into_iter().enumerate() {
        let i = k % 4;
        let (a, b) = ((i + 3) % 4, (i + 2) % 4);
        h[a] ^= h[b];
        h[b] = h[b].rotate_left(r);
        h[a] = h[a].wrapping_add(h[b]);
    }
}

fn short(data: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
    let len = data.len();
    let mut h = [seed1, seed2, CONST, CONST];
    let mut rest = data;
    if len > 15 {
        while rest.len() >= 32 {
            h[2] = h[2].wrapping_add(word(rest, 0));
            h[3] = h[3].wrapping_add(word(rest, 1));
            short_mix(&mut h);
            h[0] = h[0].wrapping_add(word(rest, 2));
            h[1] = h[1].wrapping_add(word(rest, 3));
            rest = &rest[32..];
        }
        if rest.len() >= 16 {
            h[2] = h[2].wrapping_add(word(rest, 0));
            h[3] = h[3].wrapping_add(word(rest, 1));
            short_mix(&mut h);
            rest = &rest[16..];
        }
    }
    // Shorter than 192 bytes: the shift keeps the length.
    h[3] = h[3].wrapping_add((len as u64) << 56);
    if rest.is_empty() {
        h[2] = h[2].wrapping_add(CONST);
        h[3] = h[3].wrapping_add(CONST);
    } else {
        let lo = rest.len().min(8);
        h[2] = h[2].wrapping_add(partial(&rest[..lo]));
        if rest.len() > 8 {
            h[3] = h[3].wrapping_add(partial(&rest[8..]));
        }
    }
    short_end(&mut h);
    (h[0], h[1])
}

/// The 128-bit SpookyHash V2 of `data` with the two seeds.
pub fn hash128(data: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
    let mut hasher = Hasher::new(seed1, seed2);
    hasher.update(data);
    hasher.finish()
}

/// SpookyHash V2 over data given in pieces.
#[derive(Clone)]
pub struct Hasher {
    /// The unhashed tail: fewer than [`BUF`] bytes.
    buf: Vec<u8>,
    h: [u64; VARS],
    /// Every byte given so far.
    len: u64,
    seeds: (u64, u64),
}

impl Hasher {
    pub fn new(seed1: u64, seed2: u64) -> Self {
        let mut h = [CONST; VARS];
        for i in (0..VARS).step_by(3) {
            h[i] = seed1;
            h[i + 1] = seed2;
        }
        Self {
            buf: Vec::with_capacity(BUF),
            h,
            len: 0,
            seeds: (seed1, seed2),
        }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.saturating_add(data.len() as u64);
        // Keep fewer than BUF bytes unhashed, and at least what the short hash needs to decide:
        // the long hash of a message starts only once BUF bytes are known.
        if self.buf.len() + data.len() < BUF {
            self.buf.extend_from_slice(data);
            return;
        }
        if !self.buf.is_empty() {
            let take = BUF - self.buf.len();
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            let buf = std::mem::take(&mut self.buf);
            mix(&buf[..BLOCK], &mut self.h);
            mix(&buf[BLOCK..], &mut self.h);
            self.buf = buf;
            self.buf.clear();
        }
        let whole = data.len() / BLOCK * BLOCK;
        for block in data[..whole].chunks_exact(BLOCK) {
            mix(block, &mut self.h);
        }
        self.buf.extend_from_slice(&data[whole..]);
    }

    /// The hash of everything given.
    pub fn finish(&self) -> (u64, u64) {
        if self.len < BUF as u64 {
            return short(&self.buf, self.seeds.0, self.seeds.1);
        }
        let mut h = self.h;
        let mut rest = self.buf.as_slice();
        if rest.len() >= BLOCK {
            mix(&rest[..BLOCK], &mut h);
            rest = &rest[BLOCK..];
        }
        end(rest, &mut h);
        (h[0], h[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use proptest::prelude::*;

    fn id(data: &[u8]) -> String {
        let (a, b) = hash128(data, 0, 0);
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&a.to_le_bytes());
        raw[8..].copy_from_slice(&b.to_le_bytes());
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// `testspooky.cpp`'s `TestResults`: the low 32 bits of the first half, seeds 0, over
    /// `buf[i] = i + 128`.
    #[test]
    fn reference_values() {
        let buf: Vec<u8> = (0..512).map(|i: u32| (i + 128) as u8).collect();
        for (n, want) in [
            (0, 0x6BF5_0919u32),
            (1, 0x70DE_1D26),
            (31, 0x027B_CA7C),
            (64, 0x069C_8BB7),
            (191, 0xE13D_9E19),
            (192, 0x77E0_12BD),
            (300, 0x37E2_B1DA),
            (511, 0xCC1C_8250),
        ] {
            assert_eq!(hash128(&buf[..n], 0, 0).0 as u32, want, "length {n}");
        }
    }

    /// Chunk ids computed by the validator's client for `buf[i] = i * 7 + 3`, across every branch
    /// of the short and the long hash.
    #[test]
    fn validator_chunk_ids() {
        let buf: Vec<u8> = (0..10_007).map(|i: u32| (i * 7 + 3) as u8).collect();
        for (n, want) in [
            (0, "GQn1a/wGJyPHUei0Ze5yiw=="),
            (1, "MP+ciUz6h0uldhEaZYu2gQ=="),
            (2, "IKEOksEb3oc4sRcqoGczuw=="),
            (7, "QiywvhKUnqnriTK1uw2KaA=="),
            (8, "/cWjluiI+pMZeO+adl1p1Q=="),
            (9, "8K41ol+DigoAC7oMU80hRw=="),
            (11, "VkT/36Y3o713sCjq/C7HTw=="),
            (12, "47gHyW8wwFWklsDutA9YiA=="),
            (13, "nMFBGAFdHnE5zldcilShxQ=="),
            (15, "6fzzpVcl/4BV7XQwMCSRnw=="),
            (16, "7cTQfE0ja5nX+l0gD4+Aig=="),
            (17, "sTJFXeD3/eD9eW0KvITsfg=="),
            (23, "V3G2FHM0PKnPLAAYhM5p+w=="),
            (31, "DC65idhDzLjFQ8wMOYw7gw=="),
            (32, "9EAOaYWZC+E2LYST8UxVKA=="),
            (33, "lLcarI81axIHveyM2nF0fQ=="),
            (47, "vS4jN5eL68Nqwh4xfZXDCw=="),
            (48, "F/b63I6XkfAYvtQNt26LkQ=="),
            (63, "TR/fZJyuHMotQW7yj1wIUA=="),
            (64, "NW58zx5ZRVOVWrBm5GCXmg=="),
            (95, "nTlDVfDDBAr/zwKF/g61uw=="),
            (96, "Ehq14cSOkh+VRaiJcBpIWg=="),
            (97, "PDMDg66iACfUNwmb923pwQ=="),
            (127, "bY6PYZzUS3mFOPIM4FJ1qA=="),
            (128, "Dk3DzjgDvoBagi2qFUx+WQ=="),
            (143, "WA5E6kSg6fWeoilHazcVQw=="),
            (159, "hL5tFazXIgDPp/ghg6sD7A=="),
            (191, "BADnIWdVi1pDy3oapou+vw=="),
            (192, "z7mzwR8j1Ut29NZiB0QN9w=="),
            (193, "wrN0Vr6ej4miGpTwup9S6Q=="),
            (200, "aJ/gMB1+iUZqStEZH2RVAg=="),
            (287, "7LC8liaxYO98mvlARByJSw=="),
            (288, "+654lGbvonBgUXCqBSqPMw=="),
            (289, "8HvY8A0snpcsr9qiyJVslA=="),
            (383, "baHmzksh7kcuLZEZWwl55w=="),
            (384, "d2+lmT0t5momYCZvaJ5G/w=="),
            (385, "OimIB49+x8KZWGekhgyiug=="),
            (1000, "BRulGDItB4VIv7WpLGcSJA=="),
            (4096, "ELsVsbh+UJsZLm6q7UPYGw=="),
            (10_007, "HiWlcjjJBwuHyLBTqgZqRw=="),
        ] {
            assert_eq!(id(&buf[..n]), want, "length {n}");
        }
        assert_eq!(id(b"SampleTextVersion-1"), "OpSWhpt12BRkuGX4z7bQPg==");
    }

    #[test]
    fn seeds_change_the_hash() {
        assert_ne!(hash128(b"abc", 0, 0), hash128(b"abc", 1, 0));
        assert_ne!(hash128(&[7; 500], 0, 0), hash128(&[7; 500], 0, 1));
    }

    proptest! {
        /// However the input is cut into pieces, the hash is the one of the whole.
        #[test]
        fn pieces_hash_like_the_whole(
            data in proptest::collection::vec(any::<u8>(), 0..1200),
            cuts in proptest::collection::vec(0usize..1200, 0..6),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut hasher = Hasher::new(3, 5);
            let mut at = 0;
            for c in cuts {
                hasher.update(&data[at..c]);
                at = c;
            }
            hasher.update(&data[at..]);
            prop_assert_eq!(hasher.finish(), hash128(&data, 3, 5));
        }
    }
}
