//! Confirmed delivery: a message whose sender waits for the outcome of putting it into the
//! recipient's mailbox (important delivery, Go's `SendImportant`), wherever the recipient's
//! shard is.
//!
//! A plain send to another shard is published with the shard's batch and its outcome is known
//! only there; a mailbox found full then drops the message. A [`Kind::Confirm`] envelope
//! carries the message and whom to tell: the recipient's shard pushes the message (bounded like
//! any message of its priority) and acknowledges with the outcome (delivered, mailbox full,
//! unknown process): to a local sender as the response to the ref it waits on, to a peer as
//! Go's type-130 acknowledgement frame. An [`AckOnce`] makes sure exactly one acknowledgement
//! goes out, whichever path ends the envelope.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ergo_edf::{Pid, Ref};
use ergo_proto::connection::Priority as WirePriority;

use crate::net::Conn;
use crate::process::{Envelope, Kind};
use crate::shard::{Fail, ShardCore};
use crate::{Error, Message, Priority};

/// Whom a confirmation goes to.
pub(crate) enum AckTo {
    /// A process of this node waiting on `r`.
    Local { to: Pid, r: Ref },
    /// A peer's important send: the ack frame on its connection.
    Remote {
        conn: Arc<Conn>,
        from_id: u64,
        to: Pid,
        reference: [u64; 3],
        priority: WirePriority,
    },
}

/// Set once the acknowledgement went out.
#[derive(Default)]
pub(crate) struct AckOnce(AtomicBool);

impl AckOnce {
    fn claim(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }

    /// Whether an acknowledgement went out already.
    pub(crate) fn done(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A message waiting for its delivery to be confirmed.
pub(crate) struct Confirm {
    pub(crate) message: Message,
    pub(crate) ack: AckTo,
    pub(crate) once: Arc<AckOnce>,
}

impl Confirm {
    /// A confirmed message and the handle that tells whether it was acknowledged.
    pub(crate) fn new(message: Message, ack: AckTo) -> (Box<Confirm>, Arc<AckOnce>) {
        let once = Arc::new(AckOnce::default());
        (
            Box::new(Confirm {
                message,
                ack,
                once: once.clone(),
            }),
            once,
        )
    }
}

impl ShardCore {
    /// Sends the acknowledgement of a confirmed message (at most once).
    pub(crate) fn confirm(&self, ack: &AckTo, once: &AckOnce, outcome: Option<Fail>) {
        if !once.claim() {
            return;
        }
        match ack {
            AckTo::Local { to, r } => {
                let result = match outcome {
                    None => Ok(Message::new(())),
                    Some(f) => Err(Error::from(f)),
                };
                let env = Envelope {
                    from: *to,
                    kind: Kind::Response(Box::new((*r, result))),
                };
                let _ = self.send_pid(*to, env, Priority::Max);
            }
            AckTo::Remote {
                conn,
                from_id,
                to,
                reference,
                priority,
            } => self.net_ack(conn, *from_id, *to, *reference, *priority, outcome),
        }
    }
}
