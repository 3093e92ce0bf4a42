//! CPU time read from `/proc`, for the benchmarks that count the app, the database server and the
//! harness apart.

use std::collections::BTreeMap;
use std::path::Path;

/// The CPU time (ns) a `schedstat` file under `/proc` records: its first field.
pub fn schedstat_ns(path: &Path) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (ns) of `postgres` processes, by pid, from each one's `schedstat`: those of the
/// cluster whose postmaster is `postmaster` (it and its children: the backends, the WAL writer,
/// the checkpointer; PostgreSQL forks each from the postmaster), or, with `None` (a server someone else started), every `postgres` process
/// on the machine.
pub fn postgres_by_pid(postmaster: Option<u32>) -> BTreeMap<u32, u64> {
    let mut by_pid = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if !std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres") {
            continue;
        }
        let ours = postmaster.is_none_or(|pm| {
            pid == pm
                || std::fs::read_to_string(path.join("stat"))
                    .is_ok_and(|stat| parent(&stat) == Some(pm))
        });
        if ours && let Some(ran) = schedstat_ns(&path.join("schedstat")) {
            by_pid.insert(pid, ran);
        }
    }
    by_pid
}

/// The parent's pid in a `/proc/<pid>/stat` file's text: the second field after the command,
/// which is in parentheses and may hold spaces or parentheses itself.
fn parent(stat: &str) -> Option<u32> {
    let (_, after) = stat.rsplit_once(')')?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU (ns) `postgres` processes spent between two samples of [`postgres_by_pid`]: a
/// process that started meanwhile counts from zero (one that ended meanwhile is not counted).
pub fn postgres_since(before: &BTreeMap<u32, u64>, after: &BTreeMap<u32, u64>) -> u64 {
    after
        .iter()
        .map(|(pid, ran)| ran.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum()
}

/// This thread's CPU time (ns), from `/proc/thread-self/schedstat`.
///
/// # Panics
/// Where the kernel keeps no such file: a figure of 0 would read as a measurement.
pub fn this_thread() -> u64 {
    schedstat_ns(Path::new("/proc/thread-self/schedstat"))
        .expect("/proc/thread-self/schedstat (Linux with schedstats)")
}

#[cfg(test)]
mod tests {
    use super::parent;

    #[test]
    fn the_parent_is_read_after_the_last_parenthesis_of_the_command() {
        assert_eq!(parent("4242 (postgres) S 4200 4200 4200 0 -1"), Some(4200));
        // A command may hold spaces and parentheses (a process may name itself anything).
        assert_eq!(parent("7 (a) S 9 (b)) R 31 7 7 0 -1"), Some(31));
        assert_eq!(parent("7 (no parent field)"), None);
        assert_eq!(parent("7 (x) S notapid"), None);
        assert_eq!(parent(""), None);
    }

    #[test]
    fn this_process_is_a_child_of_its_parent() {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert_eq!(parent(&stat), Some(std::os::unix::process::parent_id()));
    }
}
