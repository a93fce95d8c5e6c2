//! The process-wide registry of named types, as Go's `edf.RegisterTypeOf`.
//!
//! A type that crosses the wire by name must be registered on the receiving side before a value
//! of it can be decoded into a dynamic [`Value`](crate::Value); a type must also be registered
//! before any registered type whose fields use it (Go's rule, checked here). Registration order
//! gives each type an index; a node announces `4096 + index` as its type-cache IDs.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, RwLock};

use crate::decode::Decoder;
use crate::desc::TypeDesc;
use crate::encode::Encoder;
use crate::error::{DecodeError, EncodeError, RegisterError};
use crate::tags::{BINARY, MAX_TYPE_NAME_LEN, TYPE_CACHE_MIN, UINT8};
use crate::Edf;

/// A field of a registered struct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The field's name (documentation only: EDF is positional).
    pub name: Box<str>,
    /// Its type.
    pub desc: TypeDesc,
}

/// What a registered type is underneath.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegKind {
    /// A struct: field bodies in declaration order.
    Struct(Vec<Field>),
    /// A named scalar, slice, map or array (`type MyInts []int`): the body of the underlying type,
    /// with `0x83` as the marker of slices and maps.
    Named(TypeDesc),
    /// A custom marshaler (Go's `MarshalEDF`/`MarshalBinary`): `u32` length and opaque bytes.
    Custom,
}

type NativeDecode = fn(&mut Decoder<'_>) -> Result<Box<dyn Any + Send + Sync>, DecodeError>;
type NativeEncode = fn(&(dyn Any + Send), &mut Encoder<'_>) -> Result<(), EncodeError>;

/// A registered type: its name, registration index, layout and (for Rust types) native codec.
pub struct TypeInfo {
    name: Box<str>,
    index: u32,
    kind: RegKind,
    rust: Option<(TypeId, NativeDecode, NativeEncode)>,
}

impl TypeInfo {
    /// The Go-compatible name (`#pkg/path/Type`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Registration index (type-cache ID = 4096 + index).
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The layout.
    pub fn kind(&self) -> &RegKind {
        &self.kind
    }
    /// The type-cache ID this process announces for the type.
    pub fn cache_id(&self) -> Option<u16> {
        u16::try_from(u32::from(TYPE_CACHE_MIN) + self.index).ok()
    }
    /// The Rust type registered under this name, if any.
    pub fn rust_type(&self) -> Option<TypeId> {
        self.rust.map(|r| r.0)
    }
    /// Decodes a body of this type into its native Rust value (for types registered with
    /// [`register`]). `None` for schema-only registrations.
    pub fn decode_native(
        &self,
        dec: &mut Decoder<'_>,
    ) -> Option<Result<Box<dyn Any + Send + Sync>, DecodeError>> {
        self.rust.map(|r| (r.1)(dec))
    }
    /// Encodes a native value's body (it must be of the registered Rust type).
    pub fn encode_native(
        &self,
        v: &(dyn Any + Send),
        enc: &mut Encoder<'_>,
    ) -> Option<Result<(), EncodeError>> {
        self.rust.map(|r| (r.2)(v, enc))
    }
}

impl PartialEq for TypeInfo {
    /// Types are the same when their registered names are.
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl fmt::Debug for TypeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypeInfo")
            .field("name", &self.name)
            .field("index", &self.index)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Where a `#[derive(Edf)]` type remembers its registration index. One static per type.
pub struct RegSlot(AtomicU32);

impl RegSlot {
    const UNSET: u32 = u32::MAX;
    /// An empty slot.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> RegSlot {
        RegSlot(AtomicU32::new(Self::UNSET))
    }
    /// The registration index, once registered.
    #[inline]
    pub fn index(&self) -> Option<u32> {
        match self.0.load(Ordering::Relaxed) {
            Self::UNSET => None,
            i => Some(i),
        }
    }
    fn set(&self, i: u32) {
        self.0.store(i, Ordering::Relaxed);
    }
}

/// A Rust type that travels by name. Implemented by `#[derive(Edf)]`.
pub trait Registered: Edf + Send + Sync + 'static {
    /// The Go-compatible name, `#` + package path + `/` + type name.
    fn type_name() -> &'static str;
    /// The type's registration slot.
    fn slot() -> &'static RegSlot;
    /// The layout; fails if a field's registered type is not registered yet.
    fn schema() -> Result<RegKind, RegisterError>;
}

/// Hand-written encodings (Go's `MarshalEDF`/`MarshalBinary`): use with `#[edf(custom)]`.
///
/// ```
/// use ergo_edf::{Edf, EdfCustom};
/// #[derive(Edf, Debug, PartialEq)]
/// #[edf(custom, name = "#example/Point")]
/// struct Point { x: i32, y: i32 }
/// impl EdfCustom for Point {
///     fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String> {
///         out.extend_from_slice(&self.x.to_be_bytes());
///         out.extend_from_slice(&self.y.to_be_bytes());
///         Ok(())
///     }
///     fn unmarshal(b: &[u8]) -> Result<Self, String> {
///         if b.len() < 8 { return Err("short point".into()); }
///         Ok(Point { x: i32::from_be_bytes(b[0..4].try_into().unwrap()),
///                    y: i32::from_be_bytes(b[4..8].try_into().unwrap()) })
///     }
/// }
/// ergo_edf::ensure_registered::<Point>().unwrap();
/// let bytes = ergo_edf::to_vec(&Point { x: 1, y: -2 }).unwrap();
/// assert_eq!(ergo_edf::from_slice::<Point>(&bytes).unwrap(), Point { x: 1, y: -2 });
/// ```
pub trait EdfCustom: Sized {
    /// Appends the encoding to `out`.
    fn marshal(&self, out: &mut Vec<u8>) -> Result<(), String>;
    /// Parses the bytes the peer sent (exactly the body, without its length).
    fn unmarshal(bytes: &[u8]) -> Result<Self, String>;
}

#[derive(Default)]
struct Registry {
    by_name: HashMap<Box<str>, Arc<TypeInfo>>,
    by_index: Vec<Arc<TypeInfo>>,
    by_type: HashMap<TypeId, Arc<TypeInfo>>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

fn check_name(name: &str) -> Result<(), RegisterError> {
    if name.is_empty() || name.len() > MAX_TYPE_NAME_LEN {
        return Err(RegisterError::BadName(name.to_string()));
    }
    Ok(())
}

fn insert(
    name: &str,
    kind: RegKind,
    rust: Option<(TypeId, NativeDecode, NativeEncode)>,
) -> Result<Arc<TypeInfo>, RegisterError> {
    check_name(name)?;
    // A registered named `[]byte` is, in Go, a registered slice of uint8, never a binary.
    let kind = match kind {
        RegKind::Named(TypeDesc::Basic(BINARY)) => {
            RegKind::Named(TypeDesc::Slice(Arc::new(TypeDesc::Basic(UINT8))))
        }
        k => k,
    };
    let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if reg.by_name.contains_key(name) {
        return Err(RegisterError::Taken(name.to_string()));
    }
    let index = reg.by_index.len() as u32;
    if u32::from(TYPE_CACHE_MIN) + index > u32::from(u16::MAX) {
        return Err(RegisterError::Full("types"));
    }
    let info = Arc::new(TypeInfo {
        name: name.into(),
        index,
        kind,
        rust,
    });
    reg.by_name.insert(name.into(), info.clone());
    reg.by_index.push(info.clone());
    if let Some((t, ..)) = info.rust {
        reg.by_type.insert(t, info.clone());
    }
    Ok(info)
}

fn native_decode<T: Registered>(
    dec: &mut Decoder<'_>,
) -> Result<Box<dyn Any + Send + Sync>, DecodeError> {
    Ok(Box::new(T::decode_body(dec)?))
}

fn native_encode<T: Registered>(
    v: &(dyn Any + Send),
    enc: &mut Encoder<'_>,
) -> Result<(), EncodeError> {
    match (v as &dyn Any).downcast_ref::<T>() {
        Some(v) => v.encode_body(enc),
        None => Err(EncodeError::Mismatch {
            expected: T::type_name().to_string(),
            got: "another Rust type".to_string(),
        }),
    }
}

/// Registers `T`. Fails with [`RegisterError::Taken`] if the name is registered already
/// (as Go does), or [`RegisterError::NotRegisteredFirst`] if a field's type is not registered.
pub fn register<T: Registered>() -> Result<Arc<TypeInfo>, RegisterError> {
    let kind = T::schema()?;
    let info = insert(
        T::type_name(),
        kind,
        Some((TypeId::of::<T>(), native_decode::<T>, native_encode::<T>)),
    )?;
    T::slot().set(info.index);
    Ok(info)
}

/// Registers `T` unless this same Rust type is registered already; then returns its entry.
/// A *different* type under the same name is still [`RegisterError::Taken`].
pub fn ensure_registered<T: Registered>() -> Result<Arc<TypeInfo>, RegisterError> {
    if let Some(info) = lookup(T::type_name()) {
        if info.rust_type() == Some(TypeId::of::<T>()) {
            T::slot().set(info.index);
            return Ok(info);
        }
        return Err(RegisterError::Taken(T::type_name().to_string()));
    }
    match register::<T>() {
        Err(RegisterError::Taken(_)) => ensure_registered::<T>(),
        other => other,
    }
}

/// Registers a layout under a name without a Rust type (tools, bridges): values of it decode
/// into [`Value::Registered`](crate::Value::Registered). A named binary
/// (`RegKind::Named(TypeDesc::Basic(BINARY))`) is stored as what Go registers for a named
/// `[]byte`: a slice of uint8.
pub fn register_schema(name: &str, kind: RegKind) -> Result<Arc<TypeInfo>, RegisterError> {
    insert(name, kind, None)
}

/// The entry registered under `name`.
pub fn lookup(name: &str) -> Option<Arc<TypeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    reg.by_name.get(name).cloned()
}

/// The entry registered for this Rust type.
pub fn lookup_type_id(t: TypeId) -> Option<Arc<TypeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    reg.by_type.get(&t).cloned()
}

/// The entry with this registration index.
pub fn lookup_index(index: u32) -> Option<Arc<TypeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    reg.by_index.get(index as usize).cloned()
}

/// Every registered type, in registration order.
pub fn registered_types() -> Vec<Arc<TypeInfo>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    reg.by_index.clone()
}

/// The descriptor of a registered Rust type, for the schema of types that contain it.
/// Fails if `T` is not registered yet.
pub fn registered_desc<T: Registered>() -> Result<TypeDesc, RegisterError> {
    lookup(T::type_name())
        .map(TypeDesc::Registered)
        .ok_or_else(|| RegisterError::NotRegisteredFirst(T::type_name().to_string()))
}

/// The registered name of a type in a Go package: `package` (with or without its leading `#`),
/// then `/` and the type name. `#[derive(Edf)]` uses it for `#[edf(package = ...)]`:
/// `package_name("#github.com/myapp/orders", "Order")` gives `#github.com/myapp/orders/Order`.
pub fn package_name(package: &str, type_name: &str) -> String {
    let package = package.trim_end_matches('/');
    let mut s = String::with_capacity(package.len() + type_name.len() + 2);
    if !package.starts_with('#') {
        s.push('#');
    }
    s.push_str(package);
    s.push('/');
    s.push_str(type_name);
    s
}

/// Turns a Rust module path and type name into a Go-style registered name:
/// `my_app::orders` + `Order` gives `#my_app/orders/Order`.
pub fn go_name(module_path: &str, type_name: &str) -> String {
    let mut s = String::with_capacity(module_path.len() + type_name.len() + 2);
    s.push('#');
    s.push_str(&module_path.replace("::", "/"));
    s.push('/');
    s.push_str(type_name);
    s
}
