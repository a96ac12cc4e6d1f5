//! The machine a benchmark ran on, printed with every table.

use serde::Serialize;
use std::process::Command;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub arch: String,
    pub os: String,
    pub kernel: String,
    pub docker: String,
    pub compose: String,
    pub nu: String,
    /// The 1-, 5- and 15-minute load averages from `/proc/loadavg`.
    pub load: String,
}

impl Machine {
    pub fn read() -> Machine {
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("PRETTY_NAME=").map(|name| name.trim_matches('"').to_string()))
            })
            .unwrap_or_else(|| "unknown".to_string());
        let load = std::fs::read_to_string("/proc/loadavg")
            .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".to_string());
        Machine {
            cpus: std::thread::available_parallelism().map_or(0, usize::from),
            arch: std::env::consts::ARCH.to_string(),
            os,
            kernel: output("uname", &["-r"]),
            docker: output("docker", &["version", "--format", "{{.Server.Version}}"]),
            compose: output("docker", &["compose", "version", "--short"]),
            nu: output("nu", &["--version"]),
            load,
        }
    }

    /// Describes the machine in one paragraph, with the load averages at the
    /// start and at the end of the benchmark.
    pub fn markdown(&self, after: &Machine) -> String {
        format!(
            "Machine: {} CPUs ({}), {}, Linux {}, Docker Engine {}, Compose {}, Nushell {}; load average {} at the start and {} at the end.\n",
            self.cpus, self.arch, self.os, self.kernel, self.docker, self.compose, self.nu, self.load, after.load
        )
    }
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string())
}
