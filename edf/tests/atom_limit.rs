//! The atom table is bounded: new atoms from bytes fail once the limit is reached, known atoms
//! still decode. (Its own test binary: the limit is process-wide.)

use ergo_edf::{DecodeError, Value};

#[test]
fn new_atoms_from_bytes_stop_at_the_limit() {
    let known = ergo_edf::Atom::new("known-before-the-limit");
    ergo_edf::set_atom_table_limit(0);
    let bytes = ergo_edf::to_vec(&known).unwrap();
    assert_eq!(
        ergo_edf::from_slice::<Value>(&bytes).unwrap(),
        Value::Atom(known)
    );
    let fresh = hex::decode("8c000e6e657665722d7365656e2d61746f6d").unwrap(); // "never-seen-atom"
    assert!(matches!(
        ergo_edf::from_slice::<Value>(&fresh),
        Err(DecodeError::AtomTableFull(0))
    ));
    ergo_edf::set_atom_table_limit(1 << 20);
    assert!(ergo_edf::from_slice::<Value>(&fresh).is_ok());
}
