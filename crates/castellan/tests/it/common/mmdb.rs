//! Writes small MaxMind DB files (format 2.0) for tests: an IPv4 search tree of 32-bit
//! records, the 16-byte separator, a data section in MaxMind DB data types, then the
//! metadata after its marker. Enough for a GeoIP2-City-shaped database of a few networks.

use std::net::Ipv4Addr;

/// A value in MaxMind DB data types.
pub enum Data {
    Text(&'static str),
    Double(f64),
    U16(u16),
    U32(u32),
    U64(u64),
    Map(Vec<(&'static str, Data)>),
    Array(Vec<Data>),
}

/// A control byte (and extended-type byte) for `kind` and `size`, then the size's extra
/// bytes: sizes up to 28 fit in the control byte, larger ones follow it.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (low, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, vec![]),
        29..285 => (29, vec![(size - 29) as u8]),
        285..65821 => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
        _ => (31, ((size - 65821) as u32).to_be_bytes()[1..].to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | low);
    } else {
        out.push(low);
        out.push(kind - 7);
    }
    out.extend(extra);
}

/// An unsigned integer in as few bytes as it needs.
fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend(&bytes[skip..]);
}

fn encode(out: &mut Vec<u8>, data: &Data) {
    match data {
        Data::Text(text) => {
            control(out, 2, text.len());
            out.extend(text.as_bytes());
        }
        Data::Double(value) => {
            control(out, 3, 8);
            out.extend(value.to_be_bytes());
        }
        Data::U16(value) => unsigned(out, 5, u64::from(*value)),
        Data::U32(value) => unsigned(out, 6, u64::from(*value)),
        Data::U64(value) => unsigned(out, 9, *value),
        Data::Map(pairs) => {
            control(out, 7, pairs.len());
            for (key, value) in pairs {
                encode(out, &Data::Text(key));
                encode(out, value);
            }
        }
        Data::Array(items) => {
            control(out, 11, items.len());
            for item in items {
                encode(out, item);
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Record {
    Empty,
    Node(usize),
    /// Offset in the data section.
    Data(usize),
}

/// A database mapping each IPv4 network to its record; other addresses have none.
pub fn database(networks: &[(Ipv4Addr, u8, Data)]) -> Vec<u8> {
    let mut nodes: Vec<[Record; 2]> = vec![[Record::Empty; 2]];
    let mut section = Vec::new();
    for (address, prefix, data) in networks {
        let offset = section.len();
        encode(&mut section, data);
        let bits = u32::from(*address);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][bit] = Record::Data(offset);
            } else {
                node = match nodes[node][bit] {
                    Record::Node(next) => next,
                    _ => {
                        nodes.push([Record::Empty; 2]);
                        nodes[node][bit] = Record::Node(nodes.len() - 1);
                        nodes.len() - 1
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut file = Vec::new();
    for pair in &nodes {
        for record in pair {
            let value = match record {
                Record::Empty => count,
                Record::Node(next) => *next,
                Record::Data(offset) => count + 16 + offset,
            };
            file.extend((value as u32).to_be_bytes());
        }
    }
    file.extend([0u8; 16]);
    file.extend(section);
    file.extend(b"\xAB\xCD\xEFMaxMind.com");
    let metadata = Data::Map(vec![
        ("binary_format_major_version", Data::U16(2)),
        ("binary_format_minor_version", Data::U16(0)),
        ("build_epoch", Data::U64(1_700_000_000)),
        ("database_type", Data::Text("GeoLite2-City")),
        ("description", Data::Map(vec![("en", Data::Text("test"))])),
        ("ip_version", Data::U16(4)),
        ("languages", Data::Array(vec![Data::Text("en")])),
        ("node_count", Data::U32(count as u32)),
        ("record_size", Data::U16(32)),
    ]);
    encode(&mut file, &metadata);
    file
}

/// A GeoIP2-City record, with English names.
pub fn city(
    country: (&'static str, &'static str),
    city: &'static str,
    subdivision: (&'static str, &'static str),
    (latitude, longitude): (f64, f64),
    time_zone: &'static str,
    continent: &'static str,
) -> Data {
    let names = |name| Data::Map(vec![("en", Data::Text(name))]);
    Data::Map(vec![
        ("city", Data::Map(vec![("names", names(city))])),
        (
            "continent",
            Data::Map(vec![("code", Data::Text(continent))]),
        ),
        (
            "country",
            Data::Map(vec![
                ("iso_code", Data::Text(country.0)),
                ("names", names(country.1)),
            ]),
        ),
        (
            "location",
            Data::Map(vec![
                ("latitude", Data::Double(latitude)),
                ("longitude", Data::Double(longitude)),
                ("time_zone", Data::Text(time_zone)),
            ]),
        ),
        (
            "subdivisions",
            Data::Array(vec![Data::Map(vec![
                ("iso_code", Data::Text(subdivision.0)),
                ("names", names(subdivision.1)),
            ])]),
        ),
    ])
}
