//! TFRecord framing (TensorFlow `core/lib/io/record_writer.cc`): each record is
//!
//! ```text
//! u64 length (little endian)   u32 masked_crc32c(length bytes)
//! length bytes of data         u32 masked_crc32c(data)
//! ```
//!
//! CRC32C is the Castagnoli polynomial (iSCSI), masked as TensorFlow's `crc32c::Mask`:
//! rotated right by 15 bits plus `0xa282ead8`, so that a CRC of data holding CRCs does not
//! degenerate.
use super::Damage;

/// The reflected Castagnoli polynomial.
const POLY: u32 = 0x82f6_3b78;

/// Byte-at-a-time CRC32C table, built at compile time.
const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ POLY } else { crc >> 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC32C of `data`.
pub(super) fn crc32c(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &b| TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8))
}

/// TensorFlow's masked CRC32C of `data`.
pub(super) fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends `data` framed as one record to `out`.
pub(super) fn push_record(out: &mut Vec<u8>, data: &[u8]) {
    let len = (data.len() as u64).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
}

/// The records of `bytes` in order, up to the first that is cut short or fails its CRC;
/// with that record's byte offset and what is wrong with it, if one does.
pub(super) fn split_records(bytes: &[u8]) -> (Vec<&[u8]>, Option<(usize, Damage)>) {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match record_at(&bytes[at..]) {
            Ok((data, used)) => {
                records.push(data);
                at += used;
            }
            Err(what) => return (records, Some((at, what))),
        }
    }
    (records, None)
}

/// The record at the start of `bytes` and the number of bytes it takes.
fn record_at(bytes: &[u8]) -> Result<(&[u8], usize), Damage> {
    let word = |at: usize, n: usize| {
        bytes.get(at..at + n).ok_or_else(|| format!("cut short ({} bytes left)", bytes.len()))
    };
    let len_bytes = word(0, 8)?;
    let len_crc = u32::from_le_bytes(word(8, 4)?.try_into().expect("4 bytes"));
    if masked_crc32c(len_bytes) != len_crc {
        return Err("the length's CRC does not match".into());
    }
    let len = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    let len = usize::try_from(len).map_err(|_| format!("length {len} is too large"))?;
    let end = 12usize.checked_add(len).ok_or("length overflows")?;
    let data = word(12, len)?;
    let data_crc = u32::from_le_bytes(word(end, 4)?.try_into().expect("4 bytes"));
    if masked_crc32c(data) != data_crc {
        return Err("the data's CRC does not match".into());
    }
    Ok((data, end + 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_standard_check_values() {
        // The check value of CRC-32C (RFC 3720, iSCSI) and its all-zero test vector.
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn the_mask_is_tensorflows() {
        // TensorFlow's crc32c::Mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
        let crc = crc32c(b"123456789");
        assert_eq!(masked_crc32c(b"123456789"), crc.rotate_right(15).wrapping_add(0xa282ead8));
        // An empty record's framing, as TensorFlow writes it.
        let mut out = Vec::new();
        push_record(&mut out, b"");
        assert_eq!(out.len(), 16);
        assert_eq!(&out[..8], &[0; 8]);
        assert_eq!(u32::from_le_bytes(out[8..12].try_into().unwrap()), masked_crc32c(&[0; 8]));
    }

    #[test]
    fn records_split_back_and_damage_is_located() {
        let mut out = Vec::new();
        push_record(&mut out, b"first");
        push_record(&mut out, b"");
        push_record(&mut out, b"third record");
        let (records, problem) = split_records(&out);
        assert_eq!(records, [&b"first"[..], b"", b"third record"]);
        assert_eq!(problem, None);

        // A record cut short (a writer killed mid-record) ends the list at its offset.
        let cut = &out[..out.len() - 3];
        let (records, problem) = split_records(cut);
        assert_eq!(records.len(), 2);
        let (at, what) = problem.unwrap();
        assert_eq!(at, 21 + 16);
        assert!(what.0.contains("cut short"), "{what}");

        // A flipped data byte fails the data CRC; a flipped length byte the length CRC.
        let mut flipped = out.clone();
        flipped[12] ^= 1;
        let (records, problem) = split_records(&flipped);
        assert!(records.is_empty());
        assert_eq!(problem, Some((0, "the data's CRC does not match".into())));
        let mut flipped = out;
        flipped[21] ^= 1;
        let (records, problem) = split_records(&flipped);
        assert_eq!(records.len(), 1);
        assert_eq!(problem, Some((21, "the length's CRC does not match".into())));
    }
}
