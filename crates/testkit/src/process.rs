//! A child process in its own process group that cannot outlive us: the
//! group is killed on drop (also when a test panics), and the kernel kills
//! the child if this process dies without running drop.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

pub struct Group {
    child: Child,
    exited: Option<ExitStatus>,
}

impl Group {
    /// Spawns `command` as the leader of a new process group.
    ///
    /// The parent-death signal follows the spawning *thread*, so the group
    /// must be owned (and dropped) by the thread that started it.
    pub fn spawn(mut command: Command) -> std::io::Result<Group> {
        command.process_group(0);
        // SAFETY: prctl is async-signal-safe and touches no memory of ours.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(Group {
            child: command.spawn()?,
            exited: None,
        })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's stdout, if it was piped and not taken yet.
    pub fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// The exit status if the process has ended (and reaps it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Waits up to `timeout` for the process to end by itself.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM to the group, SIGKILL after `grace`; returns once reaped.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        // Already reaped: it died by itself, and Envoy starts no children.
        if self.exited.is_some() {
            return self.exited;
        }
        let pgid = self.child.id() as libc::pid_t;
        // SAFETY: plain syscalls on the group we created. The leader is not
        // reaped until after the last kill, so its id cannot be reused meanwhile.
        unsafe { libc::killpg(pgid, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while !self.has_exited_unreaped() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        unsafe { libc::killpg(pgid, libc::SIGKILL) };
        self.exited = self.child.wait().ok();
        self.exited
    }

    /// Whether the leader has exited, leaving it a zombie so its id stays taken.
    fn has_exited_unreaped(&self) -> bool {
        // SAFETY: waitid writes only into `info`.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
            libc::waitid(libc::P_PID, self.child.id() as libc::id_t, &mut info, flags) == 0
                && info.si_pid() != 0
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop(Duration::from_secs(3));
    }
}
