//! The few fields of TensorFlow's `Event` and `Summary` protocol buffers
//! (`tensorflow/core/util/event.proto`, `core/framework/summary.proto`) that scalar logs use:
//!
//! ```text
//! Event   { double wall_time = 1; int64 step = 2;
//!           oneof what { string file_version = 3; Summary summary = 5; ... } }
//! Summary { repeated Value value = 1; }
//! Value   { string tag = 1; oneof value { float simple_value = 2; ... } }
//! ```
//!
//! Encoded by hand in field order (as protobuf's own encoders do); the decoder skips fields
//! it does not know, so it reads files of other writers too.
use super::Damage;

/// One event: the file's version line or a set of scalars at a step.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Event {
    /// Seconds since the Unix epoch.
    pub(super) wall_time: f64,
    /// Global step.
    pub(super) step: i64,
    /// What the event holds.
    pub(super) what: What,
}

/// An event's payload.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum What {
    /// `brain.Event:2`, the first event of every file.
    FileVersion(String),
    /// Scalars by tag.
    Scalars(Vec<(String, f32)>),
    /// A payload this reader does not decode (graphs, images, ...).
    Other,
}

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

fn key(out: &mut Vec<u8>, field: u8, wire: u8) {
    out.push((field << 3) | wire);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(out: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    key(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

impl Event {
    /// The event's protobuf bytes.
    pub(super) fn encode(&self) -> Vec<u8> {
        // proto3 leaves out fields at their default (0), as protobuf's encoders do.
        let mut out = Vec::new();
        if self.wall_time != 0.0 {
            key(&mut out, 1, FIXED64);
            out.extend_from_slice(&self.wall_time.to_le_bytes());
        }
        if self.step != 0 {
            key(&mut out, 2, VARINT);
            // int64 is encoded as its two's complement bits, negative numbers in ten bytes.
            varint(&mut out, self.step as u64);
        }
        match &self.what {
            What::FileVersion(v) => bytes_field(&mut out, 3, v.as_bytes()),
            What::Scalars(values) => {
                let mut summary = Vec::new();
                for (tag, value) in values {
                    let mut v = Vec::new();
                    bytes_field(&mut v, 1, tag.as_bytes());
                    key(&mut v, 2, FIXED32);
                    v.extend_from_slice(&value.to_le_bytes());
                    bytes_field(&mut summary, 1, &v);
                }
                bytes_field(&mut out, 5, &summary);
            }
            What::Other => {}
        }
        out
    }

    /// Decodes an event's protobuf bytes.
    pub(super) fn decode(bytes: &[u8]) -> Result<Self, Damage> {
        let mut event = Event { wall_time: 0.0, step: 0, what: What::Other };
        for field in Fields(bytes) {
            match field? {
                (1, Value::Fixed64(v)) => event.wall_time = f64::from_bits(v),
                (2, Value::Varint(v)) => event.step = v as i64,
                (3, Value::Len(v)) => event.what = What::FileVersion(utf8(v)?),
                (5, Value::Len(v)) => event.what = What::Scalars(summary(v)?),
                _ => {}
            }
        }
        Ok(event)
    }
}

/// The scalar values of a `Summary`; values of other kinds are skipped.
fn summary(bytes: &[u8]) -> Result<Vec<(String, f32)>, Damage> {
    let mut out = Vec::new();
    for field in Fields(bytes) {
        let (1, Value::Len(value)) = field? else { continue };
        let (mut tag, mut simple) = (None, None);
        for field in Fields(value) {
            match field? {
                (1, Value::Len(v)) => tag = Some(utf8(v)?),
                (2, Value::Fixed32(v)) => simple = Some(f32::from_bits(v)),
                _ => {}
            }
        }
        if let (Some(tag), Some(simple)) = (tag, simple) {
            out.push((tag, simple));
        }
    }
    Ok(out)
}

fn utf8(bytes: &[u8]) -> Result<String, Damage> {
    String::from_utf8(bytes.to_vec()).map_err(|_| "a string field is not UTF-8".into())
}

/// A field's value by wire type.
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

/// The `(field number, value)` pairs of a message, in order.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Damage> {
        if n > self.0.len() {
            return Err(format!("a field wants {n} bytes, {} are left", self.0.len()).into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, Damage> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("a varint runs past 10 bytes".into())
    }

    fn field(&mut self) -> Result<(u64, Value<'a>), Damage> {
        let key = self.varint()?;
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().expect("8"))),
            LEN => {
                let n = self.varint()?;
                Value::Len(self.take(usize::try_from(n).map_err(|_| "length overflows")?)?)
            }
            FIXED32 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().expect("4"))),
            wire => return Err(format!("wire type {wire} is not supported").into()),
        };
        Ok((key >> 3, value))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), Damage>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            // One error ends the message: the bytes after it have no known framing.
            self.0 = &[];
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of Python protobuf's `SerializeToString()` of the same messages
    /// (`tensorboard.compat.proto.event_pb2.Event`), written out here.
    #[test]
    fn encoding_matches_protobufs_own_bytes() {
        let version =
            Event { wall_time: 1.5, step: 0, what: What::FileVersion("brain.Event:2".into()) };
        let expected: &[u8] = &[
            0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x1a, 0x0d, b'b', b'r', b'a', b'i', b'n', b'.',
            b'E', b'v', b'e', b'n', b't', b':', b'2',
        ];
        assert_eq!(version.encode(), expected);
        let scalars = Event {
            wall_time: 1.5,
            step: 300,
            what: What::Scalars(vec![("train/loss".into(), 0.25), ("lr".into(), 2.0)]),
        };
        let expected: &[u8] = &[
            0x09, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, 0x10, 0xac, 0x02, 0x2a, 0x1e, 0x0a, 0x11, 0x0a,
            0x0a, b't', b'r', b'a', b'i', b'n', b'/', b'l', b'o', b's', b's', 0x15, 0, 0, 0x80,
            0x3e, 0x0a, 0x09, 0x0a, 0x02, b'l', b'r', 0x15, 0, 0, 0, 0x40,
        ];
        assert_eq!(scalars.encode(), expected);
    }

    #[test]
    fn events_decode_back_and_unknown_fields_are_skipped() {
        let event = Event {
            wall_time: 1_765_000_000.25,
            step: 1 << 40,
            what: What::Scalars(vec![("a".into(), -1.5), ("monitor/asr".into(), 12.5)]),
        };
        assert_eq!(Event::decode(&event.encode()).unwrap(), event);
        // A field 4 varint and a field 7 fixed32 that this reader does not know.
        let mut bytes = event.encode();
        bytes.extend_from_slice(&[0x20, 0x96, 0x01, 0x3d, 1, 2, 3, 4]);
        assert_eq!(Event::decode(&bytes).unwrap(), event);
        // Cut inside the summary: an error, not a panic.
        let bytes = event.encode();
        let err = Event::decode(&bytes[..bytes.len() - 2]).unwrap_err();
        assert!(err.0.contains("are left"), "{err}");
    }
}
