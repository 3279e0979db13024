//! Serial numbers compared as the integers they encode.

use std::fmt;

/// A serial number as the minimal two's-complement encoding of its INTEGER:
/// a redundant leading `00` (before a byte below `0x80`) or `ff` (before a
/// byte from `0x80`) is dropped, so non-minimal encodings of one integer are
/// equal, while `80 01` (negative) and `00 80 01` (positive) stay apart.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Box<[u8]>);

impl Serial {
    pub fn new(contents: &[u8]) -> Self {
        let mut bytes = contents;
        while let [first, second, ..] = bytes {
            let redundant =
                (*first == 0x00 && *second < 0x80) || (*first == 0xff && *second >= 0x80);
            if !redundant {
                break;
            }
            bytes = bytes.get(1..).unwrap_or_default();
        }
        Serial(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Colon-separated hex, as `openssl x509 -serial` shows it (without colons).
impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("00");
        }
        for byte in self.0.iter() {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::Serial;

    #[test]
    fn equal_integers_are_equal_serials() {
        assert_eq!(Serial::new(&[0x00, 0x00, 0x12]), Serial::new(&[0x12]));
        assert_eq!(
            Serial::new(&[0x00, 0x80, 0x01]),
            Serial::new(&[0x00, 0x80, 0x01])
        );
        assert_eq!(Serial::new(&[0xff, 0x80]), Serial::new(&[0x80]));
    }

    #[test]
    fn sign_and_magnitude_matter() {
        // 0x8001 positive vs the negative integer encoded 80 01.
        assert_ne!(Serial::new(&[0x00, 0x80, 0x01]), Serial::new(&[0x80, 0x01]));
        assert_ne!(Serial::new(&[0x01]), Serial::new(&[0x01, 0x00]));
        assert_ne!(Serial::new(&[0x00]), Serial::new(&[0x00, 0x00, 0x01]));
        assert_eq!(Serial::new(&[0x00, 0x00]).as_bytes(), &[0x00]);
    }
}
