//! The conformance runner: feeds files in the golden vectors' JSON schema through the codec.
//!
//! Value files (`edf.json` schema): each value is decoded with the cache options it was encoded
//! with, must consume every byte, and must re-encode to exactly the same bytes. A value whose
//! registered type this process does not know is *skipped*.
//!
//! Failure files (`edf_errors.json` schema): decode cases must fail with the error Go reports
//! (matched by meaning, from Go's error text), except where Go's own decoder has a documented
//! bug (it rejects valid strings of 65534/65535 bytes): there the valid input must decode.
//! Encode/register cases are reproduced with the Rust equivalent where one exists; the cases
//! that Rust rejects at compile time are proven by static assertions in this file.

use std::collections::HashMap;
use std::path::Path;

use ergo_edf::{
    Atom, DecodeCaches, DecodeError, Decoder, EncodeCaches, EncodeError, GoError, Pid,
    RegisterError, TypeDesc, Value,
};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::{parity_twins, twins};

/// What a run found.
#[derive(Default, Debug)]
pub struct Summary {
    /// Cases that behaved as the vectors say.
    pub passed: usize,
    /// `name: reason` of every failure.
    pub failed: Vec<String>,
    /// `name: reason` of every skipped case.
    pub skipped: Vec<String>,
}

impl Summary {
    /// The runner's last line.
    pub fn line(&self) -> String {
        format!(
            "{} passed, {} failed, {} skipped",
            self.passed,
            self.failed.len(),
            self.skipped.len()
        )
    }
}

/// The process-global cache tables of the Go process that wrote a vector file (the
/// `edf_caches.json` schema: `reg_cache`, `err_cache`, `atom_cache`, each a list of `{id, name}`).
#[derive(Default, Debug, Clone)]
pub struct Tables {
    /// Type-cache IDs and the registered names they stand for.
    pub reg: Vec<(u16, String)>,
    /// Error-cache IDs and error texts.
    pub err: Vec<(u16, GoError)>,
    /// Atom-cache IDs and atoms.
    pub atoms: Vec<(u16, Atom)>,
}

fn id_names(j: &Json) -> Vec<(u16, String)> {
    j.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    Some((
                        u16::try_from(r["id"].as_u64()?).ok()?,
                        r["name"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Tables {
    /// The tables of a parsed caches document.
    pub fn from_json(json: &Json) -> Tables {
        Tables {
            reg: id_names(&json["reg_cache"]),
            err: id_names(&json["err_cache"])
                .into_iter()
                .map(|(id, n)| (id, GoError::new(n)))
                .collect(),
            atoms: id_names(&json["atom_cache"])
                .into_iter()
                .map(|(id, n)| (id, Atom::new(&n)))
                .collect(),
        }
    }

    /// Reads a caches file.
    pub fn load(path: &Path) -> Result<Tables, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Json =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Tables::from_json(&json))
    }
}

/// A vector file's entries and the cache tables its values were encoded with.
///
/// A file is either a JSON array of entries, or an object `{"caches": ..., "vectors": [...]}`
/// whose `caches` names the tables: a file name (beside the vector file) or the tables inline.
/// `caches` (the runner's `--caches` flag) overrides what the file says; an array file without a
/// flag uses `edf_caches.json` beside it when there is one (the layout of the Go-captured set).
pub fn read_vectors(path: &Path, caches: Option<&Path>) -> Result<(Vec<Json>, Tables), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: Json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let (entries, named) = match json {
        Json::Array(a) => (a, None),
        Json::Object(mut o) => {
            let entries = match o.remove("vectors") {
                Some(Json::Array(a)) => a,
                _ => {
                    return Err(format!(
                        "{}: an object file needs a `vectors` array",
                        path.display()
                    ))
                }
            };
            (entries, o.remove("caches"))
        }
        _ => {
            return Err(format!(
                "{}: not a JSON array or object of vectors",
                path.display()
            ))
        }
    };
    let tables = match (caches, named) {
        (Some(flag), _) => Tables::load(flag)?,
        (None, Some(Json::String(name))) => Tables::load(&path.with_file_name(name))?,
        (None, Some(inline @ Json::Object(_))) => Tables::from_json(&inline),
        (None, Some(other)) => {
            return Err(format!(
                "{}: `caches` must be a file name or an object, not {other}",
                path.display()
            ))
        }
        (None, None) => {
            let beside = path.with_file_name("edf_caches.json");
            if beside.exists() {
                Tables::load(&beside)?
            } else {
                Tables::default()
            }
        }
    };
    Ok((entries, tables))
}

/// Runs one vector file, adding to `summary` (the tests' entry point).
#[allow(dead_code)]
pub fn run_file(path: &Path, summary: &mut Summary) -> Result<(), String> {
    run_file_with(path, None, summary)
}

/// Runs one vector file with the cache tables of `caches` (or those the file names).
pub fn run_file_with(
    path: &Path,
    caches: Option<&Path>,
    summary: &mut Summary,
) -> Result<(), String> {
    twins::register_all().map_err(|e| format!("registering the twin types: {e}"))?;
    parity_twins::register_all().map_err(|e| format!("registering the parity twin types: {e}"))?;
    let (entries, tables) = read_vectors(path, caches)?;
    for e in &entries {
        let name = e["name"].as_str().unwrap_or("<unnamed>").to_string();
        let outcome = if e.get("operation").is_some() {
            run_failure_case(e)
        } else if e.get("hex").is_some() {
            run_value_case(e, &tables)
        } else {
            Outcome::Skip("entry has neither `hex` nor `operation`".into())
        };
        match outcome {
            Outcome::Pass => summary.passed += 1,
            Outcome::Fail(r) => summary.failed.push(format!("{name}: {r}")),
            Outcome::Skip(r) => summary.skipped.push(format!("{name}: {r}")),
        }
    }
    Ok(())
}

enum Outcome {
    Pass,
    Fail(String),
    Skip(String),
}

/// The bytes of a vector, rebuilding values whose hex the generator truncated (a prefix, then the
/// last byte repeated up to `len`), checked against the recorded SHA-256.
pub fn vector_bytes(e: &Json) -> Result<Vec<u8>, String> {
    let hex_str = e["hex"].as_str().ok_or("no hex")?;
    let mut bytes = hex::decode(hex_str).map_err(|err| format!("bad hex: {err}"))?;
    if e["hex_truncated"].as_bool() == Some(true) {
        let len = e["len"].as_u64().ok_or("truncated hex without len")? as usize;
        let fill = *bytes.last().ok_or("empty truncated hex")?;
        bytes.resize(len, fill);
        let want = e["sha256"].as_str().ok_or("truncated hex without sha256")?;
        let got = hex::encode(Sha256::digest(&bytes));
        if got != want {
            return Err("cannot rebuild the truncated value (sha256 differs)".into());
        }
    }
    Ok(bytes)
}

fn cache_used<'a>(e: &'a Json, prefix: &str) -> Option<&'a serde_json::Map<String, Json>> {
    e["cache_used"]
        .as_object()?
        .iter()
        .find(|(k, _)| k.starts_with(prefix))
        .and_then(|(_, v)| v.as_object())
}

/// Builds the encode and decode caches an entry's `options` name, from its `cache_used` and the
/// file's `tables`.
pub fn caches_for(e: &Json, tables: &Tables) -> (EncodeCaches, DecodeCaches) {
    let opts = e["options"].as_str().unwrap_or("none");
    let connection = opts.starts_with("connection-like");
    let mut enc = EncodeCaches::default();
    let mut dec = DecodeCaches::default();
    if opts.contains("atomcache") || connection {
        let atoms: Vec<(Atom, u16)> = match cache_used(e, "atom_cache") {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| Some((Atom::new(k), u16::try_from(v.as_u64()?).ok()?)))
                .collect(),
            None if !tables.atoms.is_empty() => {
                tables.atoms.iter().map(|(id, a)| (*a, *id)).collect()
            }
            None => vec![
                (Atom::new("b@localhost"), 300),
                (Atom::new("a@localhost"), 301),
                (Atom::new("sink"), 302),
            ],
        };
        enc = enc.with_atoms(atoms.iter().copied());
        dec = dec.with_atoms(atoms.iter().map(|(a, id)| (*id, *a)));
    }
    if opts.contains("regcache") || connection {
        // The process-wide table the file names, with the entry's own `cache_used` on top:
        // entries list only the outer type they cache.
        let mut types: Vec<(u16, String)> = tables.reg.clone();
        if let Some(m) = cache_used(e, "reg_cache") {
            types.extend(
                m.iter()
                    .filter_map(|(k, v)| Some((u16::try_from(v.as_u64()?).ok()?, k.clone()))),
            );
        }
        enc = enc.with_types(types.iter().map(|(id, n)| (n.as_str(), *id)));
        dec = dec.with_types(types.iter().map(|(id, n)| (*id, n.as_str())));
    }
    if opts.contains("errcache") || connection {
        let errors: Vec<(u16, GoError)> = match cache_used(e, "err_cache") {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| {
                    Some((u16::try_from(v.as_u64()?).ok()?, GoError::new(k.as_str())))
                })
                .collect(),
            None if !tables.err.is_empty() => tables.err.clone(),
            None => ergo_edf::registered_errors(),
        };
        enc = enc.with_errors(errors.iter().map(|(id, e)| (e.clone(), *id)));
        dec = dec.with_errors(errors.iter().cloned());
    }
    if opts.contains("atommapping") {
        if let Some(m) = cache_used(e, "atom_mapping") {
            let pairs: Vec<(Atom, Atom)> = m
                .iter()
                .filter_map(|(k, v)| Some((Atom::new(k), Atom::new(v.as_str()?))))
                .collect();
            enc = enc.with_atom_mapping(pairs.iter().copied());
            dec = dec.with_atom_mapping(pairs.iter().map(|(from, to)| (*to, *from)));
        }
    }
    (enc, dec)
}

fn run_value_case(e: &Json, tables: &Tables) -> Outcome {
    let bytes = match vector_bytes(e) {
        Ok(b) => b,
        Err(r) => return Outcome::Skip(r),
    };
    let (enc_caches, dec_caches) = caches_for(e, tables);
    let mut dec = Decoder::new(&bytes, &dec_caches);
    let value = match Value::decode_tagged(&mut dec) {
        Ok(v) => v,
        Err(DecodeError::UnknownRegType(t)) => {
            return Outcome::Skip(format!("registered type {t} is unknown here"))
        }
        Err(err) => return Outcome::Fail(format!("decode: {err}")),
    };
    if dec.position() != bytes.len() {
        return Outcome::Fail(format!(
            "decode consumed {} of {} bytes",
            dec.position(),
            bytes.len()
        ));
    }
    let mut out = Vec::with_capacity(bytes.len());
    if let Err(err) = ergo_edf::encode(&value, &mut out, &enc_caches) {
        return Outcome::Fail(format!("re-encode: {err}"));
    }
    if out != bytes {
        return Outcome::Fail(format!(
            "re-encoded bytes differ:\n  want {}\n  got  {}",
            short_hex(&bytes),
            short_hex(&out)
        ));
    }
    Outcome::Pass
}

fn short_hex(b: &[u8]) -> String {
    if b.len() > 96 {
        format!("{}... ({} bytes)", hex::encode(&b[..96]), b.len())
    } else {
        hex::encode(b)
    }
}

/// Bytes of a failure case's `input_hex`, rebuilt when it ends with `...(N bytes total)`.
fn input_bytes(e: &Json) -> Result<Vec<u8>, String> {
    let s = e["input_hex"].as_str().unwrap_or("");
    match s.split_once("...(") {
        None => hex::decode(s).map_err(|err| format!("bad input_hex: {err}")),
        Some((prefix, rest)) => {
            let total: usize = rest
                .trim_end_matches(" bytes total)")
                .parse()
                .map_err(|_| format!("cannot read the total length in {rest:?}"))?;
            let mut b = hex::decode(prefix).map_err(|err| format!("bad input_hex: {err}"))?;
            let fill = *b.last().ok_or("empty input_hex")?;
            b.resize(total, fill);
            Ok(b)
        }
    }
}

fn run_failure_case(e: &Json) -> Outcome {
    let op = e["operation"].as_str().unwrap_or("");
    let name = e["name"].as_str().unwrap_or("");
    let go_error = e["error"].as_str().unwrap_or("");
    if op == "edf.Decode" {
        return run_decode_failure(e, go_error);
    }
    match expectation(name) {
        Some(Expect::Encode(value, check)) => {
            let mut out = Vec::new();
            match ergo_edf::encode(&value, &mut out, EncodeCaches::none()) {
                Ok(()) => Outcome::Fail(format!(
                    "encoded {} bytes; Go fails with {go_error:?}",
                    out.len()
                )),
                Err(err) if check(&err) => Outcome::Pass,
                Err(err) => Outcome::Fail(format!("wrong error {err:?}; Go: {go_error:?}")),
            }
        }
        Some(Expect::Check(f)) => match f() {
            Ok(()) => Outcome::Pass,
            Err(r) => Outcome::Fail(r),
        },
        Some(Expect::CompileTime) => Outcome::Pass,
        Some(Expect::NoEquivalent(why)) => Outcome::Skip(why.into()),
        None => Outcome::Skip(format!("{op} case the runner has no Rust equivalent for")),
    }
}

fn run_decode_failure(e: &Json, go_error: &str) -> Outcome {
    let input = match input_bytes(e) {
        Ok(b) => b,
        Err(r) => return Outcome::Skip(r),
    };
    let mut dec = Decoder::new(&input, DecodeCaches::none());
    let got = Value::decode_tagged(&mut dec);
    match &got {
        // Go's own decoder bug (uint16 overflow): the input is a valid encoding and must decode.
        Ok(Value::String(s))
            if go_error.starts_with("runtime error: slice bounds out of range") =>
        {
            if s.len() + 3 == input.len() {
                Outcome::Pass
            } else {
                Outcome::Fail(format!("decoded a string of {} bytes", s.len()))
            }
        }
        Ok(v) => match go_error.strip_prefix("<NO ERROR> decoded ") {
            Some(go_value) => match go_syntax(v) {
                Some(ours) if ours == go_value => Outcome::Pass,
                Some(ours) => Outcome::Fail(format!("decoded {ours}; Go decoded {go_value}")),
                None => Outcome::Skip(format!(
                    "decoded {v:?}, which the runner cannot print as Go does to compare with {go_value}"
                )),
            },
            None => Outcome::Fail(format!("decoded {v:?}; Go: {go_error:?}")),
        },
        // A type Go registered and this process did not: nothing to judge.
        Err(DecodeError::UnknownRegType(t))
            if go_error != format!("unknown reg type {t} for decoding") =>
        {
            Outcome::Skip(format!("registered type {t} is unknown here"))
        }
        Err(err) if same_error(go_error, err) => Outcome::Pass,
        Err(err) => Outcome::Fail(format!("got {err:?}; Go: {go_error:?}")),
    }
}

/// Whether Go's error text `go` reports the failure `ours` is (matched by meaning).
fn same_error(go: &str, ours: &DecodeError) -> bool {
    let text = go.strip_prefix("malformed EDF: ").unwrap_or(go);
    let num = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
    };
    let unfolded = text
        .split_once("): no decoder for type ")
        .filter(|(head, _)| head.starts_with("unable to unfold type ("))
        .and_then(|(_, n)| n.trim().parse::<u64>().ok());
    match ours {
        DecodeError::Empty | DecodeError::EndOfData { .. } => {
            text == "end of data" || text.starts_with("runtime error: slice bounds out of range")
        }
        DecodeError::UnknownType { tag, .. } => {
            num("unknown type ") == Some(u64::from(*tag)) || unfolded == Some(u64::from(*tag))
        }
        DecodeError::NoAtomCache(id) => num("no AtomCache to decode id ") == Some(u64::from(*id)),
        DecodeError::UnknownAtomId(id) => num("unknown AtomCache id ") == Some(u64::from(*id)),
        DecodeError::NoRegCache(id) => {
            num("no RegCache to decode cached id ") == Some(u64::from(*id))
        }
        DecodeError::UnknownRegId(id) => num("unknown RegCache id ") == Some(u64::from(*id)),
        DecodeError::NoErrCache(id) => num("no ErrCache to decode id ") == Some(u64::from(*id)),
        DecodeError::UnknownErrId(id) => num("unknown ErrCache id ") == Some(u64::from(*id)),
        DecodeError::UnknownRegType(t) => text == format!("unknown reg type {t} for decoding"),
        DecodeError::BadMarker { what, byte, .. } => {
            let b = Some(u64::from(*byte));
            match *what {
                "slice" => {
                    num("incorrect slice type ") == b || num("incorrect slice/array type ") == b
                }
                "map" => num("incorrect map type ") == b,
                _ => false,
            }
        }
        DecodeError::CountTooLarge { what, .. } => match *what {
            "slice" | "map" => text.starts_with("incorrect data length"),
            // Go's binary reader overflows (uint32 length + 4) and panics; both reject.
            "binary" => {
                text.starts_with("runtime error: slice bounds out of range")
                    || text == "end of data"
            }
            _ => false,
        },
        DecodeError::BadTime(why) => match text.strip_prefix("Time.UnmarshalBinary: ") {
            Some("no data") => *why == "empty",
            Some(go_why) => go_why == *why,
            None => false,
        },
        _ => false,
    }
}

/// Go's `%#v` of a decoded value, for the values the runner can print; `None` otherwise.
fn go_syntax(v: &Value) -> Option<String> {
    Some(match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int8(i) => i.to_string(),
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) | Value::Int(i) => i.to_string(),
        // %#v prints unsigned integers in hex.
        Value::Uint8(u) => format!("{u:#x}"),
        Value::Uint16(u) => format!("{u:#x}"),
        Value::Uint32(u) => format!("{u:#x}"),
        Value::Uint64(u) | Value::Uint(u) => format!("{u:#x}"),
        Value::Float64(f) if f.is_finite() && f.abs() < 1e21 && f.abs() >= 1e-4 || *f == 0.0 => {
            format!("{f}")
        }
        Value::String(s) => go_quote(s.as_bytes()),
        Value::GoString(s) => go_quote(s.as_bytes()),
        Value::Slice { elem, items: None } => format!("[]{}(nil)", go_type(elem)?),
        Value::Map {
            key,
            value,
            entries: None,
        } => format!("map[{}]{}(nil)", go_type(key)?, go_type(value)?),
        Value::Registered(info, body) => {
            let short = go_short_name(info.name())?;
            match &**body {
                Value::Slice { items: None, .. } | Value::Map { entries: None, .. } => {
                    format!("{short}(nil)")
                }
                // %#v of a named number or string prints the value alone.
                b if b.basic_tag().is_some() => go_syntax(b)?,
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// `#pkg/path/Type` as Go prints the type: `path.Type`.
fn go_short_name(name: &str) -> Option<String> {
    let (pkg, ty) = name.strip_prefix('#')?.rsplit_once('/')?;
    let last = pkg.rsplit('/').next()?;
    Some(format!("{last}.{ty}"))
}

/// Go's spelling of an element type.
fn go_type(d: &TypeDesc) -> Option<String> {
    Some(match d {
        TypeDesc::Any => "interface {}".into(),
        TypeDesc::Basic(t) => match *t {
            ergo_edf::tags::ATOM => "gen.Atom".into(),
            ergo_edf::tags::BINARY => "[]uint8".into(),
            ergo_edf::tags::PID => "gen.PID".into(),
            ergo_edf::tags::TIME => "time.Time".into(),
            t => go_basic_name(t)?.into(),
        },
        TypeDesc::Slice(e) => format!("[]{}", go_type(e)?),
        TypeDesc::Array(n, e) => format!("[{n}]{}", go_type(e)?),
        TypeDesc::Map(k, v) => format!("map[{}]{}", go_type(k)?, go_type(v)?),
        TypeDesc::Registered(info) => go_short_name(info.name())?,
    })
}

fn go_basic_name(t: u8) -> Option<&'static str> {
    use ergo_edf::tags::*;
    Some(match t {
        STRING => "string",
        FLOAT32 => "float32",
        FLOAT64 => "float64",
        BOOL => "bool",
        INT8 => "int8",
        INT16 => "int16",
        INT32 => "int32",
        INT64 => "int64",
        INT => "int",
        UINT8 => "uint8",
        UINT16 => "uint16",
        UINT32 => "uint32",
        UINT64 => "uint64",
        UINT => "uint",
        ERROR => "error",
        _ => return None,
    })
}

/// Go's `strconv.Quote` of string bytes: invalid bytes as `\xNN`.
fn go_quote(b: &[u8]) -> String {
    let mut out = String::from("\"");
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\x00"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out.push('"');
    out
}

enum Expect {
    /// Encoding this value must fail with a matching error.
    Encode(Value, fn(&EncodeError) -> bool),
    /// A check that returns why it failed.
    Check(fn() -> Result<(), String>),
    /// Rust rejects this at compile time (see the static assertions below).
    CompileTime,
    /// Rust has nothing this could be.
    NoEquivalent(&'static str),
}

// What Go rejects at run time, Rust rejects at compile time: pointers, references, channels,
// functions, complex numbers and structs without `#[derive(Edf)]` have no `Edf` impl, and
// built-in or framework types cannot be registered.
static_assertions::assert_not_impl_any!(*const twins::Child: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(&'static twins::Child: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(Box<twins::Child>: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(std::sync::mpsc::Sender<isize>: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(fn() -> (): ergo_edf::Edf);
static_assertions::assert_not_impl_any!((f64, f64): ergo_edf::Edf);
static_assertions::assert_not_impl_any!(NotDerived: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(Vec<NotDerived>: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(HashMap<*const isize, isize>: ergo_edf::Edf);
static_assertions::assert_not_impl_any!(isize: ergo_edf::Registered);
static_assertions::assert_not_impl_any!(String: ergo_edf::Registered);
static_assertions::assert_not_impl_any!(Pid: ergo_edf::Registered);
static_assertions::assert_not_impl_any!(ergo_edf::Time: ergo_edf::Registered);
static_assertions::assert_not_impl_any!(*const twins::Child: ergo_edf::Registered);

/// A struct without `#[derive(Edf)]` (Go: an unregistered struct).
#[allow(dead_code)]
struct NotDerived {
    a: isize,
}

/// The time the Go generator wrote, in a zone `offset` seconds east of UTC.
fn time_at(offset: i32) -> Value {
    let t = ergo_edf::Time::from_unix(1_796_316_307, 123_456_789);
    Value::Time(ergo_edf::Time {
        offset: Some(offset),
        ..t
    })
}

fn long(n: usize, c: char) -> String {
    std::iter::repeat_n(c, n).collect()
}

fn expectation(name: &str) -> Option<Expect> {
    Some(match name {
        "encode_nil" => Expect::Encode(Value::Nil, |e| *e == EncodeError::NothingToEncode),
        "encode_string_65536" => {
            Expect::Encode(Value::String(long(65536, 'a')), |e| matches!(e, EncodeError::StringTooLong(65536)))
        }
        "encode_slice_any_with_string_65536" => Expect::Encode(
            Value::Slice { elem: TypeDesc::Any, items: Some(vec![Value::String(long(65536, 'a'))]) },
            |e| matches!(e, EncodeError::StringTooLong(65536)),
        ),
        "encode_atom_256" => {
            Expect::Encode(Value::Atom(Atom::new(&long(256, 'z'))), |e| matches!(e, EncodeError::AtomTooLong(256)))
        }
        "encode_pid_long_node" => Expect::Encode(
            Value::Pid(Pid::new(Atom::new(&long(256, 'n')), 1, 1)),
            |e| matches!(e, EncodeError::AtomTooLong(256)),
        ),
        "encode_error_32768" => Expect::Encode(
            Value::Error(Some(GoError::new(long(32768, 'e')))),
            |e| matches!(e, EncodeError::ErrorTooLong(32768)),
        ),
        "encode_unregistered_struct"
        | "encode_slice_unregistered_struct"
        | "encode_any_unregistered_struct"
        | "encode_pointer"
        | "encode_struct_with_pointer_field_unregistered"
        | "encode_struct_with_unexported_field_unregistered"
        | "encode_chan"
        | "encode_func"
        | "encode_map_key_unsupported"
        | "encode_complex128"
        | "register_struct_with_pointer_field"
        | "register_pointer"
        | "register_builtin_int"
        | "register_builtin_string"
        | "register_gen_pid"
        | "register_time"
        | "register_struct_with_chan_field" => Expect::CompileTime,
        "register_struct_with_unexported_field" => Expect::NoEquivalent(
            "Rust field visibility is not part of the wire contract: every field of a derived struct is encoded",
        ),
        "register_twice" => Expect::Check(|| match ergo_edf::register::<twins::Child>() {
            Err(RegisterError::Taken(n)) if n == "#vectorsgen/msgs/Child" => Ok(()),
            other => Err(format!("registering Child twice gave {other:?}, want Taken")),
        }),
        "register_struct_with_unregistered_struct_field" => {
            Expect::Check(|| match ergo_edf::register::<twins::ParentOfUnregistered>() {
                Err(RegisterError::NotRegisteredFirst(n)) if n == "#vectorsgen/msgs/Unregistered" => Ok(()),
                other => Err(format!("gave {other:?}, want NotRegisteredFirst(Unregistered)")),
            })
        }
        "encode_time_offset_-60" => Expect::Encode(time_at(-60), |e| matches!(e, EncodeError::BadTime(_))),
        "encode_time_offset_-90" => Expect::Encode(time_at(-90), |e| matches!(e, EncodeError::BadTime(_))),
        "encode_unshared" => Expect::Check(|| match ergo_edf::to_vec(&parity_twins::Unshared { a: 1 }) {
            Err(EncodeError::NotRegistered("#edfparity/types/Unshared")) => Ok(()),
            other => Err(format!("encoding an unregistered type gave {other:?}, want NotRegistered")),
        }),
        "encode_marshal_edf_100_bytes" => Expect::Check(|| custom_length_is_right(100)),
        "encode_marshal_edf_10000_bytes" => Expect::Check(|| custom_length_is_right(10000)),
        _ => return None,
    })
}

/// Go patches a custom body's length into a stale buffer when the body grows it; ours must be
/// right, and decode back to the same value.
fn custom_length_is_right(n: usize) -> Result<(), String> {
    let v = twins::BigEdf { n };
    let bytes = ergo_edf::to_vec(&v).map_err(|e| e.to_string())?;
    let name_len = "#main/bigEDF".len();
    let at = 3 + name_len;
    let len =
        u32::from_be_bytes(bytes[at..at + 4].try_into().map_err(|_| "short output")?) as usize;
    if len != n || bytes.len() != at + 4 + n {
        return Err(format!(
            "length field {len}, total {} for a body of {n}",
            bytes.len()
        ));
    }
    let back: twins::BigEdf = ergo_edf::from_slice(&bytes).map_err(|e| e.to_string())?;
    if back != v {
        return Err(format!("decoded {back:?}"));
    }
    Ok(())
}
