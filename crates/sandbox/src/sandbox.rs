use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// What one command may use. Applied per process with `prlimit`; the process count is the
/// kernel's per-user count, so it covers the whole sandbox (and the other sandboxes run by the
/// same user at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds per process.
    pub cpu_secs: u64,
    /// Address space per process, bytes.
    pub memory_bytes: u64,
    /// Processes of the sandbox's user at once.
    pub processes: u64,
    /// Largest file a process may write, bytes.
    pub file_bytes: u64,
    /// Most bytes of stdout and of stderr kept per command (the rest is cut, and said so).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { cpu_secs: 120, memory_bytes: 2 << 30, processes: 256, file_bytes: 256 << 20, output_bytes: 64 << 10 }
    }
}

/// Why a sandbox could not be made or a command not run. What the command itself did (a
/// non-zero exit, a kill by a limit, a timeout) is its [`Exec`], not an error.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("sandbox: {0} (the sandbox needs bubblewrap, util-linux and iproute2, and unprivileged user namespaces)")]
    Unavailable(String),
    #[error("sandbox: {0}")]
    Io(#[from] std::io::Error),
}

/// One command's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exec {
    /// The exit code; `None` when a signal ended it (a limit, the timeout).
    pub exit: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The wall-clock limit ended it.
    pub timed_out: bool,
    pub elapsed_ms: u64,
}

impl Exec {
    pub fn ok(&self) -> bool {
        self.exit == Some(0)
    }
}

/// Every program the sandbox runs, by absolute path: nothing depends on the caller's PATH.
const BWRAP: &str = "/usr/bin/bwrap";
const NSENTER: &str = "/usr/bin/nsenter";
const UNSHARE: &str = "/usr/bin/unshare";
const SETPRIV: &str = "/usr/bin/setpriv";
const PRLIMIT: &str = "/usr/bin/prlimit";
const ENV: &str = "/usr/bin/env";
const BASH: &str = "/usr/bin/bash";

/// The environment every sandboxed command starts from: the caller's (API keys among it)
/// never goes in.
const CLEAN_ENV: [&str; 5] =
    ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/work", "LANG=C.UTF-8", "TERM=dumb", "USER=agent"];

/// Where the trusted sandboxes see the task's state directory.
pub const STATE: &str = "/task/state";

/// The user the namespaces belong to when preflight runs as root.
const NOBODY: u32 = 65534;

/// Whether this machine can make sandboxes, and if not, why.
pub fn available() -> Result<(), SandboxError> {
    for p in [BWRAP, NSENTER, UNSHARE, SETPRIV, PRLIMIT, "/usr/sbin/ip"] {
        if !Path::new(p).exists() {
            return Err(SandboxError::Unavailable(format!("{p} is missing")));
        }
    }
    let out = Command::new(UNSHARE).args(["-Urn", "true"]).env_clear().output()?;
    if !out.status.success() {
        return Err(SandboxError::Unavailable(format!(
            "cannot create a user namespace: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn is_root() -> bool {
    // The owner of a file this process just made is its effective user, without libc.
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// A task's sandbox. See the crate documentation.
pub struct Sandbox {
    dir: PathBuf,
    work: PathBuf,
    state: PathBuf,
    holder: Child,
    holder_pid: u32,
    agent: Child,
    agent_pid: u32,
    services: Mutex<Vec<Child>>,
    limits: Limits,
    as_nobody: bool,
}

/// The read-only system every sandbox sees: `/usr` (with Debian's merged-usr links), the
/// alternatives links and the few files of `/etc` programs read.
fn system_mounts(cmd: &mut Command) {
    cmd.args(["--ro-bind", "/usr", "/usr"]);
    for (link, to) in [("usr/bin", "/bin"), ("usr/sbin", "/sbin"), ("usr/lib", "/lib"), ("usr/lib64", "/lib64")] {
        cmd.args(["--symlink", link, to]);
    }
    for f in ["/etc/alternatives", "/etc/ld.so.cache", "/etc/ssl", "/etc/localtime"] {
        if Path::new(f).exists() {
            cmd.args(["--ro-bind", f, f]);
        }
    }
    cmd.args(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--die-with-parent"]);
    cmd.args(["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
    cmd.args(["--hostname", "sandbox", "--clearenv"]);
    for kv in CLEAN_ENV {
        let (k, v) = kv.split_once('=').expect("K=V");
        cmd.args(["--setenv", k, v]);
    }
}

/// Waits until `path` holds bubblewrap's `--info-fd` JSON and returns its `child-pid`.
fn child_pid(path: &Path, starter: &mut Child) -> Result<u32, SandboxError> {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(pid) = v["child-pid"].as_u64()
        {
            return Ok(pid as u32);
        }
        if let Some(status) = starter.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = starter.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(SandboxError::Unavailable(format!("bubblewrap exited ({status}): {}", err.trim())));
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(SandboxError::Unavailable("bubblewrap did not start within 10 s".into()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl Sandbox {
    /// A new sandbox under `parent` (a fresh directory inside it holds the work directory);
    /// `files`, if given, is copied into `/work`.
    pub fn start(parent: &Path, files: Option<&Path>, limits: Limits) -> Result<Sandbox, SandboxError> {
        let dir = unique_dir(parent)?;
        // A sandbox that could not be made leaves no directory behind either.
        Self::start_in(dir.clone(), files, limits).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&dir);
        })
    }

    fn start_in(dir: PathBuf, files: Option<&Path>, limits: Limits) -> Result<Sandbox, SandboxError> {
        let work = dir.join("work");
        std::fs::create_dir_all(&work)?;
        std::fs::create_dir_all(dir.join("state"))?;
        if let Some(f) = files {
            copy_tree(f, &work)?;
        }
        let as_nobody = is_root();
        if as_nobody {
            chown_tree(&dir, NOBODY)?;
        }
        let mut cmd = Self::base_command(as_nobody);
        // Named in its environment, so a sandbox's holder can be found (the tests look).
        cmd.env("PREFLIGHT_SANDBOX", &dir);
        cmd.args([UNSHARE, "-Urn", "sleep", "infinity"]);
        let mut holder = spawn_long(cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()))?;
        // `unshare` without --fork becomes `sleep`: the child is the namespaces' holder.
        let holder_pid = holder.id();
        if let Err(e) = wait_for_userns(holder_pid, &mut holder) {
            let _ = holder.kill();
            let _ = holder.wait();
            return Err(e);
        }
        let mut lo = Self::base_command(as_nobody);
        lo.args([NSENTER, "-t", &holder_pid.to_string(), "-U", "-n", "--preserve-credentials", "--"]);
        lo.args(["/usr/sbin/ip", "link", "set", "lo", "up"]);
        let out = lo.output()?;
        if !out.status.success() {
            let _ = holder.kill();
            let _ = holder.wait();
            return Err(SandboxError::Unavailable(format!(
                "cannot bring the sandbox's loopback up: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let info = dir.join("agent.json");
        let mut agent_cmd = Self::base_command(as_nobody);
        agent_cmd.args([NSENTER, "-t", &holder_pid.to_string(), "-U", "-n", "--preserve-credentials", "--"]);
        // bubblewrap writes its child's pid to fd 3, which a shell opens on a file for it.
        agent_cmd.args([BASH, "-c", "exec \"$@\" 3>\"$INFO\"", "sh", BWRAP]);
        agent_cmd.env("INFO", &info);
        let mut bw = Command::new("x");
        system_mounts(&mut bw);
        agent_cmd.args(bw.get_args());
        agent_cmd.args(["--bind", &work.to_string_lossy(), "/work", "--remount-ro", "/"]);
        agent_cmd.args(["--chdir", "/work", "--info-fd", "3"]);
        agent_cmd.args(["--", "sleep", "infinity"]);
        let mut agent = spawn_long(agent_cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()))?;
        let agent_pid = match child_pid(&info, &mut agent) {
            Ok(p) => p,
            Err(e) => {
                let _ = holder.kill();
                let _ = holder.wait();
                return Err(e);
            }
        };
        let sb = Sandbox {
            state: dir.join("state"),
            dir,
            work,
            holder,
            holder_pid,
            agent,
            agent_pid,
            services: Mutex::new(Vec::new()),
            limits,
            as_nobody,
        };
        // bubblewrap reports its child before the child has built the sandbox's file system:
        // the sandbox is ready once a command runs in it.
        let started = Instant::now();
        loop {
            let probe = sb.exec("true", b"", Duration::from_secs(5))?;
            if probe.ok() {
                return Ok(sb);
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err(SandboxError::Unavailable(format!("the sandbox did not come up: {}", probe.stderr.trim())));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The work directory on the host (mounted at `/work` inside). The host reads it only
    /// after the sandbox is gone: while it runs, a symlink the agent made there could point a
    /// host-side read anywhere.
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// The task's state directory on the host: writable by the trusted sandboxes (mounted at
    /// [`STATE`]), invisible to the agent. Services record there what they were sent; checks
    /// read it.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// Kills every process of the agent's (its sandbox's first process aside), so nothing it
    /// left running changes `/work` while the check reads it.
    pub fn stop_agent(&self) -> Result<(), SandboxError> {
        self.exec("kill -KILL -1 2>/dev/null; true", b"", Duration::from_secs(10)).map(|_| ())
    }

    /// A command with a clean environment, as `nobody` when this process is root.
    ///
    /// It dies with this process (`--pdeathsig`): a caller killed with SIGKILL takes its
    /// sandboxes' holders and agents with it, so nothing of them runs on.
    fn base_command(as_nobody: bool) -> Command {
        let mut c = Command::new(SETPRIV);
        c.args(["--pdeathsig", "KILL"]);
        if as_nobody {
            c.args(["--reuid", &NOBODY.to_string(), "--regid", &NOBODY.to_string(), "--clear-groups"]);
        }
        c.arg("--");
        c.env_clear();
        for kv in CLEAN_ENV {
            let (k, v) = kv.split_once('=').expect("K=V");
            c.env(k, v);
        }
        c
    }

    /// `command` under the limits, in the clean environment plus `env`.
    fn limited(&self, cmd: &mut Command, command: &str, env: &[(&str, &str)]) {
        let l = &self.limits;
        cmd.args([ENV, "-i"]).args(CLEAN_ENV);
        cmd.args(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.args([
            PRLIMIT,
            &format!("--cpu={}", l.cpu_secs),
            &format!("--as={}", l.memory_bytes),
            &format!("--nproc={}", l.processes),
            &format!("--fsize={}", l.file_bytes),
            "--core=0",
            "--",
            BASH,
            "-c",
            command,
        ]);
    }

    /// Runs `command` (bash) as the agent, in `/work`, with `stdin` as its input; processes
    /// it leaves in the background live on until the sandbox ends.
    pub fn exec(&self, command: &str, stdin: &[u8], timeout: Duration) -> Result<Exec, SandboxError> {
        let mut cmd = Self::base_command(self.as_nobody);
        // Two steps: the holder's user namespace grants the right to its network, and from
        // there the agent's (nested) namespaces are entered; one step would enter the nested
        // user namespace first and lose the right to the network on the way.
        cmd.args([NSENTER, "-t", &self.holder_pid.to_string(), "-U", "-n", "--preserve-credentials", "--"]);
        cmd.args([NSENTER, "-t", &self.agent_pid.to_string(), "-U", "-m", "-p", "-r", "-w"]);
        cmd.args(["--preserve-credentials", "--"]);
        self.limited(&mut cmd, command, &[]);
        run(cmd, stdin, timeout, self.limits.output_bytes)
    }

    /// A trusted sandbox's command: the holder's network, `/work`, the state directory at
    /// [`STATE`], and `mounts` (host path, path inside) read-only; `env` added (with
    /// `TASK_STATE`); the cwd `cwd` inside.
    fn trusted(&self, command: &str, mounts: &[(&Path, &str)], env: &[(&str, &str)], cwd: &str) -> Command {
        let mut cmd = Self::base_command(self.as_nobody);
        cmd.args([NSENTER, "-t", &self.holder_pid.to_string(), "-U", "-n", "--preserve-credentials", "--", BWRAP]);
        let mut bw = Command::new("x");
        system_mounts(&mut bw);
        cmd.args(bw.get_args());
        cmd.args(["--bind", &self.work.to_string_lossy(), "/work"]);
        cmd.args(["--bind", &self.state.to_string_lossy(), STATE]);
        for (host, inside) in mounts {
            cmd.args(["--ro-bind", &host.to_string_lossy(), inside]);
        }
        cmd.args(["--remount-ro", "/", "--chdir", cwd, "--"]);
        let mut env = env.to_vec();
        env.push(("TASK_STATE", STATE));
        self.limited(&mut cmd, command, &env);
        cmd
    }

    /// Runs a trusted command (setup, check) to its end: it sees `mounts` the agent never
    /// does, and no process of the agent's.
    pub fn run_trusted(
        &self,
        command: &str,
        mounts: &[(&Path, &str)],
        env: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Exec, SandboxError> {
        run(self.trusted(command, mounts, env, "/work"), b"", timeout, self.limits.output_bytes)
    }

    /// Starts a service in a trusted sandbox of its own (cwd `cwd`), running until the
    /// sandbox ends; its output goes to `log` on the host.
    pub fn spawn_service(
        &self,
        command: &str,
        mounts: &[(&Path, &str)],
        env: &[(&str, &str)],
        cwd: &str,
        log: &Path,
    ) -> Result<(), SandboxError> {
        let out = std::fs::File::create(log)?;
        let mut cmd = self.trusted(command, mounts, env, cwd);
        let child = spawn_long(cmd.stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out))?;
        self.services.lock().unwrap().push(child);
        Ok(())
    }

    /// Waits until something accepts connections on 127.0.0.1:`port` inside the sandbox.
    pub fn wait_for_port(&self, port: u16, timeout: Duration) -> Result<bool, SandboxError> {
        let started = Instant::now();
        let probe = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        while started.elapsed() < timeout {
            if self.exec(&probe, b"", Duration::from_secs(5))?.ok() {
                return Ok(true);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(false)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // bubblewrap's --die-with-parent and the end of each PID namespace's first process take
        // every process of the sandbox with them.
        for c in self.services.lock().unwrap().iter_mut().chain([&mut self.agent, &mut self.holder]) {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `pid` is in user and network namespaces of its own, its uid map written
/// (unshare has done its work).
fn wait_for_userns(pid: u32, child: &mut Child) -> Result<(), SandboxError> {
    let mine = std::fs::read_link("/proc/self/ns/user")?;
    let started = Instant::now();
    loop {
        // In a namespace of its own, and mapped: until unshare has written the uid map, the
        // namespace grants nothing (bringing its loopback up would be refused).
        if let Ok(ns) = std::fs::read_link(format!("/proc/{pid}/ns/user"))
            && ns != mine
            && std::fs::read_to_string(format!("/proc/{pid}/uid_map")).is_ok_and(|m| !m.trim().is_empty())
            && std::fs::read_link(format!("/proc/{pid}/ns/net"))
                .is_ok_and(|n| Some(&n) != std::fs::read_link("/proc/self/ns/net").ok().as_ref())
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(SandboxError::Unavailable(format!("unshare exited ({status}): {}", err.trim())));
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(SandboxError::Unavailable("unshare did not start within 10 s".into()));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Runs `cmd` with `stdin`, capturing at most `cap` bytes of each output, killing its process
/// group at `timeout`. It returns once the command ends: processes it left behind may hold its
/// output open, and are not waited for.
fn run(mut cmd: Command, stdin: &[u8], timeout: Duration, cap: usize) -> Result<Exec, SandboxError> {
    use std::os::unix::process::CommandExt;
    let started = Instant::now();
    let mut child = cmd.process_group(0).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut input = child.stdin.take().expect("piped");
    let data = stdin.to_vec();
    std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = capture(child.stdout.take().expect("piped"), cap);
    let err = capture(child.stderr.take().expect("piped"), cap);
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if started.elapsed() >= timeout {
            timed_out = true;
            kill_group(child.id());
            break child.wait()?;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    // Output still in flight when the command ended.
    std::thread::sleep(Duration::from_millis(20));
    let text = |b: &Arc<Mutex<(Vec<u8>, bool)>>| {
        let (bytes, cut) = &*b.lock().unwrap();
        let mut s = String::from_utf8_lossy(bytes).into_owned();
        if *cut {
            s.push_str(&format!("\n[output cut at {cap} bytes]"));
        }
        s
    };
    Ok(Exec {
        exit: status.code(),
        stdout: text(&out),
        stderr: text(&err),
        timed_out,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn capture(mut r: impl Read + Send + 'static, cap: usize) -> Arc<Mutex<(Vec<u8>, bool)>> {
    let buf = Arc::new(Mutex::new((Vec::new(), false)));
    let b = buf.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = r.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let mut g = b.lock().unwrap();
            let room = cap.saturating_sub(g.0.len());
            g.0.extend_from_slice(&chunk[..n.min(room)]);
            // Read on past the cap, so a chatty command is not blocked on a full pipe.
            if n > room {
                g.1 = true;
            }
        }
    });
    buf
}

/// Kills process group `pgid` (the command and whatever it started in the foreground).
fn kill_group(pgid: u32) {
    let _ = Command::new("/usr/bin/kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
}

/// Spawns a process that outlives the call (a holder, an agent's sandbox, a service) from one
/// thread that lives as long as this process. The parent-death signal fires when the *thread*
/// that spawned a process ends, and the caller's thread may be a pool's, retired while the
/// sandbox is still in use.
fn spawn_long(cmd: &mut Command) -> std::io::Result<Child> {
    type Job = (Command, std::sync::mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: std::sync::OnceLock<Mutex<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sandbox-spawner".into())
            .spawn(move || {
                for (mut cmd, back) in rx {
                    let _ = back.send(cmd.spawn());
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    });
    let (back, answer) = std::sync::mpsc::channel();
    let cmd = std::mem::replace(cmd, Command::new("/"));
    tx.lock().unwrap().send((cmd, back)).map_err(|_| std::io::Error::other("sandbox spawner gone"))?;
    answer.recv().map_err(|_| std::io::Error::other("sandbox spawner gone"))?
}

/// Removes the directories of sandboxes whose process is gone (one killed before it could clean
/// up; its processes died with it).
fn sweep(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix("sbx-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn unique_dir(parent: &Path) -> Result<PathBuf, SandboxError> {
    std::fs::create_dir_all(parent)?;
    sweep(parent);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    for i in 0..1000u32 {
        let p = parent.join(format!("sbx-{}-{nanos:x}-{i}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(SandboxError::Unavailable(format!("no fresh directory in {}", parent.display())))
}

/// Copies a task's files (regular files and directories; a symlink is copied as the file it
/// names only when that stays inside `from`, so a task cannot smuggle a host path in).
fn copy_tree(from: &Path, to: &Path) -> Result<(), SandboxError> {
    let root = from.canonicalize()?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let real = src.canonicalize()?;
        if !real.starts_with(&root) {
            return Err(SandboxError::Unavailable(format!("{} points outside the task", src.display())));
        }
        if real.is_dir() {
            std::fs::create_dir_all(&dst)?;
            copy_tree(&real, &dst)?;
        } else {
            std::fs::copy(&real, &dst)?;
        }
    }
    Ok(())
}

fn chown_tree(p: &Path, uid: u32) -> Result<(), SandboxError> {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid))?;
    if p.is_dir() && !p.is_symlink() {
        for e in std::fs::read_dir(p)? {
            chown_tree(&e?.path(), uid)?;
        }
    }
    Ok(())
}
