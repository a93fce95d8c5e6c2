//! The EDF type tags (wire-spec §3.2). Every constant is the byte Go Ergo 3.x writes.

/// Unregistered composite type descriptor follows (`82 u16 len descriptor`).
pub const TYPE_HEADER: u8 = 0x82;
/// Registered (named) type; also the data marker of registered slices and maps.
pub const REGISTERED: u8 = 0x83;
/// `any`: only inside type descriptors.
pub const ANY: u8 = 0x84;
/// `gen.Atom`.
pub const ATOM: u8 = 0x8c;
/// `string`.
pub const STRING: u8 = 0x8d;
/// `[]byte`.
pub const BINARY: u8 = 0x8e;
/// `float32`.
pub const FLOAT32: u8 = 0x8f;
/// `float64`.
pub const FLOAT64: u8 = 0x90;
/// `bool`.
pub const BOOL: u8 = 0x91;
/// `int8`.
pub const INT8: u8 = 0x92;
/// `int16`.
pub const INT16: u8 = 0x93;
/// `int32`.
pub const INT32: u8 = 0x94;
/// `int64`.
pub const INT64: u8 = 0x95;
/// Go `int` (always 8 bytes on the wire).
pub const INT: u8 = 0x96;
/// `uint8`.
pub const UINT8: u8 = 0x97;
/// `uint16`.
pub const UINT16: u8 = 0x98;
/// `uint32`.
pub const UINT32: u8 = 0x99;
/// `uint64`.
pub const UINT64: u8 = 0x9a;
/// Go `uint` (always 8 bytes on the wire).
pub const UINT: u8 = 0x9b;
/// `error`.
pub const ERROR: u8 = 0x9c;
/// Slice (in descriptors) and the non-nil marker of an unregistered slice body.
pub const SLICE: u8 = 0x9d;
/// Array (in descriptors only).
pub const ARRAY: u8 = 0x9e;
/// Map (in descriptors) and the non-nil marker of an unregistered map body.
pub const MAP: u8 = 0x9f;
/// `gen.PID`.
pub const PID: u8 = 0xaa;
/// `gen.ProcessID`.
pub const PROCESS_ID: u8 = 0xab;
/// `gen.Alias`.
pub const ALIAS: u8 = 0xac;
/// `gen.Event`.
pub const EVENT: u8 = 0xad;
/// `gen.Ref`.
pub const REF: u8 = 0xae;
/// `time.Time`.
pub const TIME: u8 = 0xaf;
/// nil (`any`, slice, map).
pub const NIL: u8 = 0xff;

/// Literal atom lengths are `0..=255`; a larger u16 is an atom-cache ID.
pub const ATOM_CACHE_MIN: u16 = 256;
/// Literal type-name lengths are `0..=4095`; a larger u16 is a type-cache ID.
pub const TYPE_CACHE_MIN: u16 = 4096;
/// Literal error lengths are `0..=32767`; a larger u16 is an error-cache ID.
pub const ERROR_CACHE_MIN: u16 = 32768;
/// The error body of a nil error.
pub const ERROR_NIL: u16 = 0xffff;

/// Longest atom, in bytes.
pub const MAX_ATOM_LEN: usize = 255;
/// Longest string, in bytes.
pub const MAX_STRING_LEN: usize = 65535;
/// Longest error text, in bytes.
pub const MAX_ERROR_LEN: usize = 32767;
/// Longest registered type name, in bytes.
pub const MAX_TYPE_NAME_LEN: usize = 4095;
/// Longest binary, and most elements of a slice or map.
pub const MAX_COLLECTION_LEN: usize = u32::MAX as usize;

/// A short human name of a basic tag, for error messages.
pub fn tag_name(tag: u8) -> &'static str {
    match tag {
        TYPE_HEADER => "type header",
        REGISTERED => "registered type",
        ANY => "any",
        ATOM => "atom",
        STRING => "string",
        BINARY => "binary",
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
        SLICE => "slice",
        ARRAY => "array",
        MAP => "map",
        PID => "PID",
        PROCESS_ID => "ProcessID",
        ALIAS => "Alias",
        EVENT => "Event",
        REF => "Ref",
        TIME => "time",
        NIL => "nil",
        _ => "unknown",
    }
}
