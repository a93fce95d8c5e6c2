//! Test hosts in network namespaces: a hub namespace with a bridge, and one namespace per host
//! joined to it by a veth pair, each with one address in 198.18.0.0/24 (the range reserved for
//! network benchmarks, RFC 2544). Everything is created by the test and removed on drop; traffic
//! stays inside these namespaces.
//!
//! A thread enters a host with [`Host::enter`]; threads it spawns afterwards (a node's shards)
//! inherit the namespace.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;

/// Why namespaces cannot be used here (printed by tests that then skip).
pub fn unavailable() -> Option<String> {
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 {
        return Some("network namespaces need root".into());
    }
    match Command::new("ip").arg("netns").arg("list").output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`ip netns` fails: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Some(format!("`ip` (iproute2) is missing: {e}")),
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let o = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip {args:?}: {e}"))?;
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

/// A set of hosts on one bridge.
pub struct Lab {
    prefix: String,
    hosts: Vec<Host>,
}

/// One host: a namespace with an address.
#[derive(Clone)]
pub struct Host {
    /// Namespace name.
    pub ns: String,
    /// Its address (198.18.0.x).
    pub addr: String,
    hub_end: String,
    prefix: String,
}

impl Lab {
    /// Creates `n` hosts (at most 200), named after `tag` (unique per test).
    pub fn new(tag: &str, n: usize) -> Result<Lab, String> {
        let prefix = format!("e{}{}", tag, std::process::id() % 10000);
        let hub = format!("{prefix}hub");
        let mut lab = Lab {
            prefix: prefix.clone(),
            hosts: Vec::new(),
        };
        ip(&["netns", "add", &hub])?;
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &hub, "link", "set", "br0", "up"])?;
        for i in 1..=n {
            let ns = format!("{prefix}h{i}");
            let (a, b) = (format!("{prefix}a{i}"), format!("{prefix}b{i}"));
            ip(&["netns", "add", &ns])?;
            ip(&["link", "add", &a, "type", "veth", "peer", "name", &b])?;
            ip(&["link", "set", &a, "netns", &ns])?;
            ip(&["link", "set", &b, "netns", &hub])?;
            let addr = format!("198.18.0.{i}");
            ip(&["-n", &ns, "addr", "add", &format!("{addr}/24"), "dev", &a])?;
            ip(&["-n", &ns, "link", "set", &a, "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &hub, "link", "set", &b, "master", "br0"])?;
            ip(&["-n", &hub, "link", "set", &b, "up"])?;
            lab.hosts.push(Host {
                ns,
                addr,
                hub_end: b,
                prefix: prefix.clone(),
            });
        }
        Ok(lab)
    }

    /// The hosts.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }
}

impl Host {
    /// Moves the calling thread into this host's namespace.
    pub fn enter(&self) -> Result<(), String> {
        let f = File::open(format!("/var/run/netns/{}", self.ns))
            .map_err(|e| format!("open netns {}: {e}", self.ns))?;
        // SAFETY: setns on a descriptor we hold open; affects only the calling thread.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(format!(
                "setns {}: {}",
                self.ns,
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    /// Cuts this host off the bridge (its cable is pulled).
    pub fn cut(&self) -> Result<(), String> {
        ip(&[
            "-n",
            &format!("{}hub", self.prefix),
            "link",
            "set",
            &self.hub_end,
            "down",
        ])
    }

    /// Plugs the cable back in.
    pub fn restore(&self) -> Result<(), String> {
        ip(&[
            "-n",
            &format!("{}hub", self.prefix),
            "link",
            "set",
            &self.hub_end,
            "up",
        ])
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for h in &self.hosts {
            let _ = ip(&["netns", "del", &h.ns]);
        }
        let _ = ip(&["netns", "del", &format!("{}hub", self.prefix)]);
    }
}
