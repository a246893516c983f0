//! The series' spellings, accepted beside docker's: single-dash long flags
//! (`-name test`, `-cpushare 512`) and `run /bin/top` (a first argument that
//! starts with "/" is the command, run on the default image).

use std::ffi::OsString;

/// The image `run` uses when it is given a command only.
pub const DEFAULT_IMAGE: &str = "busybox";

const SINGLE_DASH: [(&str, &str); 9] = [
    ("-name", "--name"),
    ("-cpushare", "--cpu-shares"),
    ("-cpuset", "--cpuset-cpus"),
    ("-mem", "--memory"),
    ("-net", "--net"),
    ("-rm", "--rm"),
    ("-hostname", "--hostname"),
    ("-env", "--env"),
    ("-volume", "--volume"),
];

/// Flags of run that take a value in the next word.
const TAKES_VALUE: [&str; 28] = [
    "-e", "--env", "--env-file", "-w", "--workdir", "-v", "--volume", "--name", "--hostname", "-m", "--memory",
    "--memory-swap", "--cpu-shares", "-c", "--cpus", "--cpuset-cpus", "--cpuset-mems", "--pids-limit", "--net",
    "--network", "-p", "--publish", "--cgroup-parent", "--cpu-quota", "--cpu-period", "--root", "--log-level",
    "--ip",
];

/// Rewrite the command line into docker's spellings.
pub fn normalize(args: Vec<OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::with_capacity(args.len() + 1);
    let mut it = args.into_iter();
    if let Some(prog) = it.next() {
        out.push(prog);
    }
    let rest: Vec<OsString> = it.collect();
    let mut i = 0;
    let mut command: Option<String> = None;
    while i < rest.len() {
        let word = rest[i].to_string_lossy().into_owned();
        match &command {
            None => {
                if word.starts_with('-') {
                    out.push(rest[i].clone());
                    if TAKES_VALUE.contains(&word.as_str()) && i + 1 < rest.len() {
                        i += 1;
                        out.push(rest[i].clone());
                    }
                } else {
                    command = Some(word);
                    out.push(rest[i].clone());
                }
                i += 1;
            }
            Some(cmd) if cmd == "run" || cmd == "exec" => {
                if word.starts_with('-') && word != "-" {
                    let fixed = SINGLE_DASH.iter().find(|(s, _)| *s == word).map(|(_, l)| l.to_string());
                    let flag = fixed.unwrap_or(word);
                    let value_next = TAKES_VALUE.contains(&flag.as_str());
                    out.push(flag.into());
                    if value_next && i + 1 < rest.len() {
                        i += 1;
                        out.push(rest[i].clone());
                    }
                    i += 1;
                    continue;
                }
                if cmd == "run" && word.starts_with('/') {
                    out.push(DEFAULT_IMAGE.into());
                }
                out.extend(rest[i..].iter().cloned());
                break;
            }
            Some(_) => {
                out.extend(rest[i..].iter().cloned());
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(words: &[&str]) -> Vec<String> {
        normalize(words.iter().map(OsString::from).collect())
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn series_transcript_becomes_docker_spelling() {
        assert_eq!(
            n(&["mydocker", "run", "-d", "-name", "test", "/bin/top"]),
            ["mydocker", "run", "-d", "--name", "test", "busybox", "/bin/top"]
        );
    }

    #[test]
    fn container_arguments_are_left_alone() {
        assert_eq!(
            n(&["mydocker", "--root", "/r", "run", "-e", "-name=x", "busybox", "ls", "-name", "/x"]),
            ["mydocker", "--root", "/r", "run", "-e", "-name=x", "busybox", "ls", "-name", "/x"]
        );
    }

    #[test]
    fn other_commands_are_untouched() {
        assert_eq!(n(&["mydocker", "ps", "-a"]), ["mydocker", "ps", "-a"]);
        assert_eq!(n(&["mydocker", "rm", "-f", "-name"]), ["mydocker", "rm", "-f", "-name"]);
    }
}
