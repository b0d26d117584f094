//! CPU and memory of processes, read from `/proc` once a second while a
//! benchmark runs: each service's resident set (idle and peak under load)
//! and CPU share, the database's and the broker's CPU, and the machine's.
use std::{
    collections::BTreeMap,
    process::Command,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

/// One reading of one process.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcReading {
    /// User plus system CPU time so far, in clock ticks.
    pub cpu_ticks: u64,
    /// Resident set size, in KiB.
    pub rss_kib: u64,
}

/// Reads `/proc/<pid>/stat` (utime, stime) and `/proc/<pid>/status` (VmRSS).
pub fn read_proc(pid: u32) -> Option<ProcReading> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields count
    // from after the last ')'. utime and stime are fields 14 and 15 of the
    // whole line, so 12th and 13th after the name.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Some(ProcReading {
        cpu_ticks: utime + stime,
        rss_kib,
    })
}

/// The machine's busy and total CPU ticks (all cores) from `/proc/stat`.
pub fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    // idle + iowait are not busy.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 on Linux if unknown).
pub fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The pids of every process whose command name is `name` (`pgrep -x`).
pub fn pids_named(name: &str) -> Vec<u32> {
    Command::new("pgrep")
        .args(["-x", name])
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// What is watched: a label and the pids whose readings are summed under it.
#[derive(Debug, Clone)]
pub struct Watched {
    pub label: String,
    pub pids: Vec<u32>,
    /// Set by [`Watched::named`]: the command name, listed again at every
    /// reading, so processes started inside the window (a pool opening
    /// more database connections under load) count too.
    pub name: Option<String>,
}

impl Watched {
    /// These processes only.
    pub fn pids(label: impl Into<String>, pids: Vec<u32>) -> Self {
        Self {
            label: label.into(),
            pids,
            name: None,
        }
    }

    /// Every process with the command name `name`, whenever it started.
    pub fn named(label: impl Into<String>, name: &str) -> Self {
        Self {
            label: label.into(),
            pids: pids_named(name),
            name: Some(name.to_string()),
        }
    }

    /// The pids to read now.
    fn current(&self) -> Vec<u32> {
        match &self.name {
            Some(name) => pids_named(name),
            None => self.pids.clone(),
        }
    }
}

/// Each pid's reading (processes that are gone are left out).
fn read_each(pids: &[u32]) -> BTreeMap<u32, ProcReading> {
    pids.iter()
        .filter_map(|p| Some((*p, read_proc(*p)?)))
        .collect()
}

/// The CPU ticks used since `start` and the resident set now, summed over
/// `now`: a process absent from `start` was born inside the window and
/// counts all its CPU; one gone by now counts nothing.
fn since(start: &BTreeMap<u32, ProcReading>, now: &BTreeMap<u32, ProcReading>) -> ProcReading {
    now.iter().fold(ProcReading::default(), |a, (pid, r)| {
        let before = start.get(pid).map_or(0, |s| s.cpu_ticks);
        ProcReading {
            cpu_ticks: a.cpu_ticks + r.cpu_ticks.saturating_sub(before),
            rss_kib: a.rss_kib + r.rss_kib,
        }
    })
}

/// Readings of one label over a window.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// CPU used in the window, as a share of one core (1.0 = one core busy).
    pub cores: f64,
    /// Largest resident set seen in the window, MiB.
    pub rss_peak_mib: f64,
}

/// A sampler running in the background until [`Sampler::finish`].
pub struct Sampler {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    peaks: Arc<Mutex<BTreeMap<String, u64>>>,
    start: BTreeMap<String, BTreeMap<u32, ProcReading>>,
    machine_start: (u64, u64),
    watched: Vec<Watched>,
    t0: Instant,
}

impl Sampler {
    /// Starts reading `watched` every `every`.
    pub fn start(watched: Vec<Watched>, every: Duration) -> Self {
        let start: BTreeMap<String, BTreeMap<u32, ProcReading>> = watched
            .iter()
            .map(|w| (w.label.clone(), read_each(&w.current())))
            .collect();
        let peaks = Arc::new(Mutex::new(
            start
                .iter()
                .map(|(k, r)| (k.clone(), r.values().map(|r| r.rss_kib).sum()))
                .collect::<BTreeMap<_, u64>>(),
        ));
        let stop = CancellationToken::new();
        let task = {
            let (stop, peaks, watched) = (stop.clone(), peaks.clone(), watched.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        _ = stop.cancelled() => break,
                    }
                    let mut peaks = peaks.lock().expect("peaks");
                    for w in &watched {
                        let rss = read_each(&w.current()).values().map(|r| r.rss_kib).sum();
                        let peak = peaks.entry(w.label.clone()).or_default();
                        *peak = (*peak).max(rss);
                    }
                }
            })
        };
        Self {
            stop,
            task,
            peaks,
            start,
            machine_start: machine_ticks(),
            watched,
            t0: Instant::now(),
        }
    }

    /// Stops and returns each label's usage over the window, in the order
    /// watched, and the machine's busy share of all its cores (0..1).
    pub async fn finish(self) -> (Vec<(String, Usage)>, f64) {
        self.stop.cancel();
        let _ = self.task.await;
        let seconds = self.t0.elapsed().as_secs_f64().max(1e-3);
        let hz = clock_ticks_per_second();
        let (busy1, total1) = machine_ticks();
        let machine = (busy1.saturating_sub(self.machine_start.0)) as f64
            / (total1.saturating_sub(self.machine_start.1)).max(1) as f64;
        let peaks = self.peaks.lock().expect("peaks").clone();
        let usage = self
            .watched
            .iter()
            .map(|w| {
                let used = since(
                    self.start.get(&w.label).unwrap_or(&BTreeMap::new()),
                    &read_each(&w.current()),
                );
                let peak = peaks.get(&w.label).copied().unwrap_or(0).max(used.rss_kib);
                (
                    w.label.clone(),
                    Usage {
                        cores: used.cpu_ticks as f64 / hz / seconds,
                        rss_peak_mib: peak as f64 / 1024.0,
                    },
                )
            })
            .collect();
        (usage, machine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = read_proc(std::process::id()).expect("own /proc entry");
        assert!(me.rss_kib > 0);
        let (busy, total) = machine_ticks();
        assert!(total >= busy && total > 0);
    }
}
