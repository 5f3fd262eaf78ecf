//! The ChaCha permutation (RFC 8439, sections 2.1 to 2.3), one copy for the token digest
//! (HChaCha8, `token.rs`) and, on 32-bit targets, the session-ID generator (ChaCha20,
//! `idgen.rs`).
//!
//! Two spellings of the same rounds: written out ([`double_round`], which the compiler
//! keeps in registers) on 64-bit targets, where speed counts; one loop over computed
//! indices ([`permute`]) elsewhere, where code size counts (the firmware: about 150
//! bytes of Cortex-M0 code instead of about 600 per copy). Tests check both against the
//! `chacha20` crate.

/// The first four words of every ChaCha state: "expand 32-byte k".
pub(crate) const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn quarter(s: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(16);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(12);
    s[a] = s[a].wrapping_add(s[b]);
    s[d] = (s[d] ^ s[a]).rotate_left(8);
    s[c] = s[c].wrapping_add(s[d]);
    s[b] = (s[b] ^ s[c]).rotate_left(7);
}

/// One double round, written out: the four column rounds, then the four diagonal ones.
#[inline(always)]
pub(crate) fn double_round(s: &mut [u32; 16]) {
    quarter(s, 0, 4, 8, 12);
    quarter(s, 1, 5, 9, 13);
    quarter(s, 2, 6, 10, 14);
    quarter(s, 3, 7, 11, 15);
    quarter(s, 0, 5, 10, 15);
    quarter(s, 1, 6, 11, 12);
    quarter(s, 2, 7, 8, 13);
    quarter(s, 3, 4, 9, 14);
}

/// `double_rounds` double rounds over `s`, in place (no feed-forward), as one small loop:
/// quarter round `i` of the column pass (`r` = 0) works on words `i`, `4 + i`, `8 + i`,
/// `12 + i`; of the diagonal pass (`r` = 1) on `i`, `4 + (i + 1) % 4`, `8 + (i + 2) % 4`,
/// `12 + (i + 3) % 4`: the same order as [`double_round`].
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
pub(crate) fn permute(s: &mut [u32; 16], double_rounds: usize) {
    for _ in 0..double_rounds {
        for r in 0..2 {
            for i in 0..4 {
                quarter(
                    s,
                    i,
                    4 + ((i + r) & 3),
                    8 + ((i + 2 * r) & 3),
                    12 + ((i + 3 * r) & 3),
                );
            }
        }
    }
}

/// The first four words of HChaCha8: the state of the constants, `key` and `input`,
/// permuted by [`permute`] (four double rounds), words 0 to 3. One copy on 32-bit targets
/// for the token digest (`token.rs`, which keeps its written-out rounds on 64-bit targets)
/// and the engine's keyed digests (`engine/digests.rs`, SipHash on 64-bit targets).
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
#[inline(never)]
pub(crate) fn hchacha8_small(key: &[u32; 8], input: &[u32; 4]) -> [u32; 4] {
    let [c0, c1, c2, c3] = SIGMA;
    let mut s = [
        c0, c1, c2, c3, key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7], input[0],
        input[1], input[2], input[3],
    ];
    permute(&mut s, 4);
    [s[0], s[1], s[2], s[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both spellings are the same permutation: RFC 8439's quarter-round and block
    /// vectors (section 2.3.2: twenty rounds and the feed-forward).
    #[test]
    fn both_spellings_give_the_rfc_block() {
        let mut s = [0u32; 16];
        s[..4].copy_from_slice(&SIGMA);
        for (i, w) in s[4..12].iter_mut().enumerate() {
            let b = 4 * i as u32;
            *w = u32::from_le_bytes([b as u8, b as u8 + 1, b as u8 + 2, b as u8 + 3]);
        }
        s[12] = 1;
        s[13] = 0x0900_0000;
        s[14] = 0x4a00_0000;
        s[15] = 0;
        let want: [u32; 16] = [
            0xe4e7_f110,
            0x1559_3bd1,
            0x1fdd_0f50,
            0xc471_20a3,
            0xc7f4_d1c7,
            0x0368_c033,
            0x9aaa_2204,
            0x4e6c_d4c3,
            0x4664_82d2,
            0x09aa_9f07,
            0x05d7_c214,
            0xa202_8bd9,
            0xd19c_12b5,
            0xb94e_16de,
            0xe883_d0cb,
            0x4e3c_50a2,
        ];
        let (mut a, mut b) = (s, s);
        for _ in 0..10 {
            double_round(&mut a);
        }
        permute(&mut b, 10);
        for k in 0..16 {
            a[k] = a[k].wrapping_add(s[k]);
            b[k] = b[k].wrapping_add(s[k]);
        }
        assert_eq!(a, want);
        assert_eq!(b, want);
    }

    /// Any number of double rounds, any state: the loop is the written-out rounds.
    #[test]
    fn the_loop_is_the_written_out_rounds() {
        let mut x = 0x9e37_79b9u32;
        for rounds in 0..12 {
            let s: [u32; 16] = core::array::from_fn(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x
            });
            let (mut a, mut b) = (s, s);
            for _ in 0..rounds {
                double_round(&mut a);
            }
            permute(&mut b, rounds);
            assert_eq!(a, b, "{rounds} double rounds");
        }
    }

    /// The 32-bit targets' HChaCha8 (the token digest's and the keyed digests') is the
    /// `chacha20` crate's, for keys and inputs of every byte pattern tried.
    #[test]
    fn hchacha8_small_is_the_crates_hchacha8() {
        use chacha20::{R8, hchacha};
        for seed in 0..16u8 {
            let key: [u8; 32] = core::array::from_fn(|i| (i as u8 * 7 + 3) ^ seed.wrapping_mul(29));
            let input: [u8; 16] = core::array::from_fn(|i| (i as u8 * 13 + 5) ^ seed);
            let words = |b: &[u8]| -> [u32; 8] {
                core::array::from_fn(|i| {
                    b.get(4 * i..4 * i + 4)
                        .map_or(0, |w| u32::from_le_bytes(w.try_into().unwrap()))
                })
            };
            let (k, x) = (words(&key), words(&input));
            let got = hchacha8_small(&k, &[x[0], x[1], x[2], x[3]]);
            let want = hchacha::<R8>(&key.into(), &input.into());
            for (i, w) in got.iter().enumerate() {
                assert_eq!(
                    w.to_le_bytes(),
                    want[4 * i..4 * i + 4],
                    "seed {seed} word {i}"
                );
            }
        }
    }
}
