//! The input layout of the `chain` and `decide` targets: a clock and a pool
//! of DER certificates first, then the target's own choices.
//!
//! ```text
//! count: u8 (mod MAX_POOL + 1)   now: u64 BE
//! count × { len: u16 BE, der: len bytes }
//! rest: consumed by the target
//! ```
//!
//! Every byte string decodes (a short input gives short certificates and a
//! zero clock), and a seed whose rest is empty takes every target's default
//! choice, which is the realistic case for that pool. Real chains therefore
//! sit in the input itself: a crash file reproduces on its own, without the
//! random keys of the PKI that produced the seed.

pub const MAX_POOL: usize = 8;

pub struct Pool<'a> {
    pub now: u64,
    /// Leaf first, as a client presents a chain.
    pub certs: Vec<&'a [u8]>,
    pub rest: &'a [u8],
}

impl<'a> Pool<'a> {
    pub fn decode(data: &'a [u8]) -> Self {
        let mut c = Cursor::new(data);
        let count = usize::from(c.u8()) % (MAX_POOL + 1);
        let now = c.u64();
        let certs = (0..count)
            .map(|_| {
                let len = usize::from(c.u16());
                c.take(len)
            })
            .collect();
        Pool {
            now,
            certs,
            rest: c.rest(),
        }
    }

    /// Where the target's own choices start: the length of the pool part.
    pub fn header_len(data: &[u8]) -> usize {
        data.len() - Pool::decode(data).rest.len()
    }

    /// The targets' mutator: libFuzzer's, applied to the choices after the
    /// pool, except one time in `whole_every` (or when the pool fills the
    /// input), when it may change any byte, the certificates' DER included.
    pub fn mutate(
        data: &mut [u8],
        size: usize,
        max_size: usize,
        seed: u32,
        whole_every: u32,
    ) -> usize {
        let header = Pool::header_len(&data[..size]);
        if seed.is_multiple_of(whole_every) || header >= max_size {
            return libfuzzer_sys::fuzzer_mutate(data, size, max_size);
        }
        header + libfuzzer_sys::fuzzer_mutate(&mut data[header..], size - header, max_size - header)
    }

    pub fn encode(now: u64, certs: &[Vec<u8>], rest: &[u8]) -> Vec<u8> {
        assert!(certs.len() <= MAX_POOL, "pool holds at most {MAX_POOL}");
        let mut out = vec![certs.len() as u8];
        out.extend(now.to_be_bytes());
        for der in certs {
            let len = u16::try_from(der.len()).expect("certificate fits a u16 length");
            out.extend(len.to_be_bytes());
            out.extend(der);
        }
        out.extend(rest);
        out
    }
}

/// Reads choices; past the end every read is zero, the default choice.
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        for b in &mut bytes {
            *b = self.u8();
        }
        u64::from_be_bytes(bytes)
    }

    /// Up to `n` bytes (fewer at the end of the input).
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let certs = vec![vec![0x30, 0x00], vec![1, 2, 3]];
        let bytes = Pool::encode(42, &certs, b"rest");
        let pool = Pool::decode(&bytes);
        assert_eq!(pool.now, 42);
        assert_eq!(pool.certs, [&[0x30, 0x00][..], &[1, 2, 3][..]]);
        assert_eq!(pool.rest, b"rest");

        let short = Pool::decode(&bytes[..12]);
        assert_eq!(short.certs, [&[0x30][..], &[][..]]);
        assert!(Pool::decode(&[]).certs.is_empty());
        assert_eq!(Pool::header_len(&bytes), bytes.len() - 4);
    }
}
