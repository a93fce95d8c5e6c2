//! Encoding an envelope into an ENP frame for a connection (the sending half of the data plane),
//! and the mapping between the engine's priorities and the wire's.

#[allow(unused_imports)]
use super::*;

pub(crate) fn wire_priority(p: Priority) -> WirePriority {
    match p {
        Priority::Normal => WirePriority::Normal,
        Priority::High => WirePriority::High,
        Priority::Max => WirePriority::Max,
    }
}

pub(crate) fn local_priority(p: WirePriority) -> Priority {
    match p {
        WirePriority::Normal => Priority::Normal,
        WirePriority::High => Priority::High,
        WirePriority::Max => Priority::Max,
    }
}

/// The value of a message as the encoder sees it.
pub(crate) fn any_of(m: &Message) -> &(dyn std::any::Any + Send) {
    m.dyn_inner().unwrap_or_else(|| m.as_any())
}

/// Encodes one envelope for `target` (on the connection's peer) into `out`.
pub(crate) fn encode(
    conn: &Conn,
    target: &WireTarget,
    env: Envelope,
    prio: Priority,
    compression: Option<ergo_proto::connection::CompressionOptions>,
    out: &mut Vec<u8>,
) -> Result<(), Fail> {
    let opts = SendOptions {
        priority: wire_priority(prio),
        compression,
        ..Default::default()
    };
    let c = &conn.codec;
    let net_err = |e: ergo_proto::connection::ConnectionError| Fail::Network(e.to_string());
    match env.kind {
        Kind::Message(m) | Kind::System(m) => {
            c.send(&env.from, target, &opts, &AnyPayload(any_of(&m)), out)
                .map_err(net_err)?;
        }
        Kind::Request(b) => {
            let (r, m) = *b;
            c.request(&env.from, target, &r, &opts, &AnyPayload(any_of(&m)), out)
                .map_err(net_err)?;
        }
        Kind::ImportantRequest(b) => {
            // The flag asks the peer for an error frame when delivery fails; the value is unused.
            let (r, m) = *b;
            let opts = SendOptions {
                important: Some(0),
                ..opts
            };
            c.request(&env.from, target, &r, &opts, &AnyPayload(any_of(&m)), out)
                .map_err(net_err)?;
        }
        Kind::Important(b) => {
            // Important delivery: the peer acknowledges with `[r.id[0], 0, 0]`.
            let (r, m) = *b;
            let opts = SendOptions {
                important: Some(r.id[0]),
                ..opts
            };
            c.send(&env.from, target, &opts, &AnyPayload(any_of(&m)), out)
                .map_err(net_err)?;
        }
        Kind::Response(b) => {
            let WireTarget::Pid(to) = target else {
                return Err(Fail::Network("a reply goes to a PID".into()));
            };
            let (r, result) = *b;
            match result {
                Ok(m) => {
                    c.response(
                        &env.from,
                        to,
                        &r,
                        opts.priority,
                        &AnyPayload(any_of(&m)),
                        opts.compression,
                        out,
                    )
                    .map_err(net_err)?;
                }
                Err(e) => {
                    let code = match e {
                        Error::ProcessUnknown => ResponseCode::UnknownProcess,
                        Error::MailboxFull => ResponseCode::MailboxFull,
                        Error::Terminated(_) => ResponseCode::Terminated,
                        other => ResponseCode::Error(GoError::new(other.to_string())),
                    };
                    c.response_error(env.from.id, to, r.id, opts.priority, &code, true, out)
                        .map_err(net_err)?;
                }
            }
        }
        Kind::Exit(b) => {
            let WireTarget::Pid(to) = target else {
                return Err(Fail::Network("exit signals go to a PID".into()));
            };
            let (reason, _) = *b;
            c.exit(&env.from, to, &reason_error(&reason), out)
                .map_err(net_err)?;
        }
        _ => {
            return Err(Fail::Network(
                "this kind of envelope does not cross nodes (links, monitors and events go through the control messages)".into(),
            ))
        }
    }
    Ok(())
}
