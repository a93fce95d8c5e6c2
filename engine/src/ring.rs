//! The shard's io_uring ring: where a shard parks, and how it is woken.
//!
//! While a shard has work it never enters the kernel. When it runs out of work it parks in
//! `io_uring_enter`, waiting for one completion, with the time to its next timer as the wait
//! timeout (`IORING_ENTER_EXT_ARG`). The completion that wakes it early is a read on the shard's
//! eventfd, which other threads write to only when the shard flagged itself asleep (see
//! [`crate::inbox`]). The network driver (a later issue) submits its socket operations here.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use io_uring::{opcode, types, IoUring};

const EVENTFD_READ: u64 = 1;

/// The wake-up side of a shard, shared with every thread that may wake it.
pub(crate) struct Waker {
    fd: OwnedFd,
}

impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        // SAFETY: plain syscall with constant flags; the result is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(Waker {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Wakes the shard (one `write(2)` on the eventfd).
    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live local to a descriptor we own.
        let r = unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        if r < 0 {
            // EAGAIN means the counter is saturated: the shard is being woken anyway.
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::WouldBlock {
                tracing::error!(error = %e, "waking a shard failed");
            }
        }
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// One shard's ring.
pub(crate) struct Ring {
    ring: IoUring,
    eventfd: RawFd,
    /// The eventfd read lands here; boxed so its address stays put while the kernel owns it.
    buf: Box<u64>,
    read_pending: bool,
    /// Completions of the network driver, handed to the shard by [`Ring::take_net`].
    net: Vec<(u64, i32)>,
}

impl Ring {
    pub(crate) fn new(waker: &Waker) -> io::Result<Ring> {
        let ring = IoUring::builder().build(64)?;
        if !ring.params().is_feature_ext_arg() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "io_uring without EXT_ARG (kernel < 5.11)",
            ));
        }
        Ok(Ring {
            ring,
            eventfd: waker.raw(),
            buf: Box::new(0),
            read_pending: false,
            net: Vec::new(),
        })
    }

    /// Reaps completions without entering the kernel. Returns how many there were.
    pub(crate) fn reap(&mut self) -> usize {
        let mut n = 0;
        for cqe in self.ring.completion() {
            n += 1;
            if cqe.user_data() == EVENTFD_READ {
                self.read_pending = false;
            } else if crate::net::link_io::is_net(cqe.user_data()) {
                self.net.push((cqe.user_data(), cqe.result()));
            }
        }
        n
    }

    /// The network completions reaped so far.
    pub(crate) fn take_net(&mut self) -> Vec<(u64, i32)> {
        std::mem::take(&mut self.net)
    }

    /// The ring itself, for the network driver's submissions.
    pub(crate) fn uring(&mut self) -> &mut IoUring {
        &mut self.ring
    }

    /// Parks until the eventfd is written or `timeout` passes (`None`: no timeout). Returns
    /// the submission entries it handed to the kernel and the completions it reaped.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<(usize, usize)> {
        let sqes = self.ring.submission().len() + usize::from(!self.read_pending);
        if !self.read_pending {
            let e = opcode::Read::new(
                types::Fd(self.eventfd),
                (&mut *self.buf as *mut u64).cast(),
                8,
            )
            .build()
            .user_data(EVENTFD_READ);
            // SAFETY: the buffer is boxed (its address is stable) and is not freed while the
            // read is pending: `Drop for Ring` leaks it in that case. The eventfd outlives the
            // ring (the shard holds the `Waker` that owns it).
            unsafe {
                self.ring
                    .submission()
                    .push(&e)
                    .map_err(|_| io::Error::other("submission queue full"))?;
            }
            self.read_pending = true;
        }
        let r = match timeout {
            Some(d) => {
                let ts = types::Timespec::from(d);
                let args = types::SubmitArgs::new().timespec(&ts);
                self.ring.submitter().submit_with_args(1, &args)
            }
            None => self.ring.submit_and_wait(1),
        };
        match r {
            Ok(_) => {}
            Err(e)
                if e.raw_os_error() == Some(libc::ETIME)
                    || e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => return Err(e),
        }
        Ok((sqes, self.reap()))
    }
}

/// Why a ring could not be set up, in words an operator can act on (the error of
/// `Node::start` when `io_uring_setup` fails).
pub(crate) fn explain_setup_error(e: &io::Error) -> String {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .ok()
        .and_then(|s| s.trim().parse::<u8>().ok());
    let cause = match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => match disabled {
            Some(2) => "io_uring is disabled on this host (sysctl kernel.io_uring_disabled = 2)"
                .to_string(),
            Some(1) => "io_uring is limited to the group in kernel.io_uring_group \
                        (sysctl kernel.io_uring_disabled = 1) and this process is not in it"
                .to_string(),
            _ => "io_uring is not permitted to this process (a seccomp profile, e.g. a \
                  container runtime's default one, or an LSM blocks io_uring_setup)"
                .to_string(),
        },
        Some(libc::ENOSYS) => {
            "this kernel has no io_uring (Linux 5.11 or later is required), or a seccomp \
             profile hides it (ENOSYS)"
                .to_string()
        }
        Some(libc::ENOMEM) => "the kernel could not allocate the ring: raise the locked-memory \
                               limit (ulimit -l, LimitMEMLOCK=) or free memory"
            .to_string(),
        Some(libc::EMFILE) | Some(libc::ENFILE) => {
            "out of file descriptors (raise ulimit -n, LimitNOFILE=)".to_string()
        }
        _ if e.kind() == io::ErrorKind::Unsupported => e.to_string(),
        _ => "io_uring_setup failed".to_string(),
    };
    format!("cannot start a shard's io_uring: {cause} ({e})")
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.read_pending {
            // The kernel may still own the read buffer until the ring is torn down: leak those
            // 8 bytes rather than risk a write into freed memory.
            std::mem::forget(std::mem::replace(&mut self.buf, Box::new(0)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_errors_name_their_cause() {
        let eperm = explain_setup_error(&io::Error::from_raw_os_error(libc::EPERM));
        assert!(
            eperm.contains("io_uring") && eperm.contains("not permitted")
                || eperm.contains("disabled"),
            "{eperm}"
        );
        let enosys = explain_setup_error(&io::Error::from_raw_os_error(libc::ENOSYS));
        assert!(enosys.contains("5.11"), "{enosys}");
        let enomem = explain_setup_error(&io::Error::from_raw_os_error(libc::ENOMEM));
        assert!(enomem.contains("locked-memory"), "{enomem}");
    }

    #[test]
    fn park_returns_on_timeout() {
        let w = Waker::new().unwrap();
        let mut r = Ring::new(&w).unwrap();
        // Returns (rather than waiting forever) although nobody wakes the ring.
        r.park(Some(Duration::from_millis(5))).unwrap();
    }

    #[test]
    fn park_returns_when_woken_from_another_thread() {
        let w = std::sync::Arc::new(Waker::new().unwrap());
        let mut r = Ring::new(&w).unwrap();
        let w2 = w.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            w2.wake();
        });
        // Without the wake this would wait 10 s; the test only checks it returns.
        r.park(Some(Duration::from_secs(10))).unwrap();
        h.join().unwrap();
        // The eventfd read was consumed, so a second park times out normally.
        r.park(Some(Duration::from_millis(1))).unwrap();
    }
}
