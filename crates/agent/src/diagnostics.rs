//! The remote diagnostics report: what an expert needs to know about the
//! machine, read from the system itself (`sysinfo`, `systemctl`,
//! `journalctl` or `/var/log`), as one JSON object (layout in
//! `docs/protocol.md` §7.5). It includes no file contents, environment
//! variables or process command lines, which may hold secrets; the last
//! system log lines are included as the system wrote them (the user grants
//! `diagnostics` knowing that).

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};
use sysinfo::{Disks, Networks, ProcessesToUpdate, System};

/// Processes listed (the largest by memory).
const MAX_PROCESSES: usize = 50;
/// System log lines included.
const LOG_LINES: usize = 50;

/// Collect the report. Blocking (it samples CPU use for a moment): run it
/// off the async threads.
pub fn collect() -> Value {
    let mut sys = match System::new_all() {
        Ok(sys) => sys,
        Err(e) => return json!({"error": format!("the system cannot be read: {e}")}),
    };
    std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
    sys.refresh_cpu_usage();
    sys.refresh_processes(ProcessesToUpdate::All, true);

    let cpus = sys.cpus();
    let cpu_brand = cpus.first().map(|c| c.brand().trim().to_owned());
    let disks: Vec<Value> = Disks::new_with_refreshed_list()
        .iter()
        .flatten()
        .map(|d| {
            json!({
                "mount": d.mount_point().to_string_lossy(),
                "file_system": d.file_system().to_string_lossy(),
                "total_bytes": d.total_space(),
                "available_bytes": d.available_space(),
            })
        })
        .collect();
    let networks: Vec<Value> = Networks::new_with_refreshed_list()
        .iter()
        .flatten()
        .map(|(name, n)| {
            let mut addresses: Vec<String> = n
                .ip_networks()
                .iter()
                .map(|ip| format!("{}/{}", ip.addr, ip.prefix))
                .collect();
            addresses.sort();
            json!({
                "name": name.to_string_lossy(),
                "mac": n.mac_address().to_string(),
                "addresses": addresses,
                "received_bytes": n.total_received(),
                "transmitted_bytes": n.total_transmitted(),
            })
        })
        .collect();
    let mut processes: Vec<&sysinfo::Process> = sys.processes().values().collect();
    processes.sort_by_key(|p| std::cmp::Reverse(p.memory()));
    let processes: Vec<Value> = processes
        .iter()
        .take(MAX_PROCESSES)
        .map(|p| {
            json!({
                "pid": p.pid().as_u32(),
                "name": p.name().to_string_lossy(),
                "cpu_percent": p.cpu_usage(),
                "memory_bytes": p.memory(),
            })
        })
        .collect();

    json!({
        "collected_at": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        "os": {
            "name": System::name().ok(),
            "version": System::os_version().ok(),
            "kernel": System::kernel_version().ok(),
            "hostname": System::host_name().ok(),
            "arch": System::cpu_arch(),
            "uptime_seconds": System::uptime().ok(),
            "boot_time": System::boot_time().ok(),
        },
        "hardware": {
            "cpu": cpu_brand,
            "logical_cpus": cpus.len(),
            "physical_cores": System::physical_core_count().ok(),
            "memory_total_bytes": sys.total_memory(),
            "swap_total_bytes": sys.total_swap(),
        },
        "usage": {
            "cpu_percent": sys.global_cpu_usage(),
            "memory_used_bytes": sys.used_memory(),
            "memory_available_bytes": sys.available_memory(),
            "swap_used_bytes": sys.used_swap(),
            "load_average": System::load_average().ok().map(|l| json!({
                "one": l.one,
                "five": l.five,
                "fifteen": l.fifteen,
            })),
        },
        "disks": disks,
        "network_interfaces": networks,
        "processes": processes,
        "process_count": sys.processes().len(),
        "services": services(),
        "system_log": system_log(),
    })
}

/// What the agent tells the control plane about its machine, for the
/// tenant's configuration database: the system, hardware, disks and
/// network interfaces — never processes, services, logs or use, which stay
/// inside the end-to-end encrypted sessions.
pub fn inventory() -> Value {
    let mut report = collect();
    if let Some(map) = report.as_object_mut() {
        for private in [
            "processes",
            "process_count",
            "services",
            "system_log",
            "usage",
        ] {
            map.remove(private);
        }
    }
    report
}

/// Services and their state, from systemd when it runs.
fn services() -> Value {
    let out = Command::new("systemctl")
        .args([
            "list-units",
            "--type=service",
            "--all",
            "--no-pager",
            "--plain",
            "--no-legend",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let list: Vec<Value> = String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|line| {
                    let mut f = line.split_whitespace();
                    let (name, load, active, sub) = (f.next()?, f.next()?, f.next()?, f.next()?);
                    Some(json!({"name": name, "load": load, "active": active, "sub": sub}))
                })
                .collect();
            json!({"source": "systemd", "list": list})
        }
        Ok(o) => json!({
            "source": "unavailable",
            "detail": String::from_utf8_lossy(&o.stderr).trim().chars().take(200).collect::<String>(),
            "list": [],
        }),
        Err(e) => json!({"source": "unavailable", "detail": e.to_string(), "list": []}),
    }
}

/// The last lines of the system log: the journal, else the syslog file.
fn system_log() -> Value {
    let n = LOG_LINES.to_string();
    if let Ok(o) = Command::new("journalctl")
        .args(["-n", &n, "--no-pager", "-o", "short-iso", "-q"])
        .output()
        && o.status.success()
        && !o.stdout.is_empty()
    {
        let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        return json!({"source": "journal", "lines": lines});
    }
    for path in ["/var/log/syslog", "/var/log/messages"] {
        if let Some(text) = tail(Path::new(path), 64 * 1024) {
            let all: Vec<&str> = text.lines().collect();
            let lines: Vec<&str> = all[all.len().saturating_sub(LOG_LINES)..].to_vec();
            return json!({"source": path, "lines": lines});
        }
    }
    json!({"source": "unavailable", "lines": []})
}

/// The last `bytes` of a file, as text (a log may be gigabytes).
fn tail(path: &Path, bytes: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(bytes))).ok()?;
    let mut buf = Vec::new();
    file.take(bytes).read_to_end(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_report_holds_this_machines_real_values() {
        let report = collect();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let total_kib: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        assert_eq!(report["hardware"]["memory_total_bytes"], total_kib * 1024);
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(report["os"]["hostname"], hostname.trim());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
        let processors = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        assert_eq!(report["hardware"]["logical_cpus"], processors as u64);
        assert!(
            report["network_interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["name"] == "lo")
        );
        assert!(report["process_count"].as_u64().unwrap() > 1);
    }
}
