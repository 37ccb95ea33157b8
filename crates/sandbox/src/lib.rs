//! A sandbox per agent task, from Linux namespaces and no daemon: the model's commands run
//! where they cannot reach the network, the host's files, the task's checker or its flags, and
//! where their processes, memory and CPU time are bounded. Built from bubblewrap (Debian's
//! `bubblewrap`) and util-linux's `unshare`, `nsenter`, `prlimit` and `setpriv`; `ip`
//! (iproute2) brings the private loopback up.
//!
//! Three kinds of namespaces per task:
//! - the **holder**: a user and network namespace with only a loopback interface, up. Everything
//!   of the task shares this network, so the task's services are reachable on 127.0.0.1 and
//!   nothing else is;
//! - the **agent's sandbox**: a bubblewrap sandbox in the holder's network with its own user,
//!   mount, PID, IPC and UTS namespaces: `/usr` read-only, a fresh `/tmp`, the work directory
//!   at `/work`, nothing else of the host. Each command of the agent enters it ([`Sandbox::exec`]),
//!   so the processes it leaves running are there for the next command;
//! - **trusted sandboxes** for setup, services and checks ([`Sandbox::run_trusted`],
//!   [`Sandbox::spawn_service`]): the same network and work directory, plus the task's private
//!   and check directories read-only, in PID and mount namespaces the agent cannot see into.
//!
//! Run as root, every namespace belongs to the unprivileged `nobody` (`setpriv`), so the
//! process limit binds and the host's root-only files stay closed. Dropping a [`Sandbox`] kills
//! all of it and removes its directory.

mod sandbox;

pub use sandbox::{Exec, Limits, STATE, Sandbox, SandboxError, available};
