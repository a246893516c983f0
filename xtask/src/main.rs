//! cargo xtask: the project's own chores, in Rust so they run wherever
//! cargo does. `cargo xtask help` lists them.

mod apt;
mod args;
mod bench;
mod bench_lifecycle;
mod build;
mod busybox;
mod demo;
mod mydocker;
mod suite;
mod util;
mod vm;

use args::Args;
use util::CommandFailed;

const HELP: &str = "\
usage: cargo xtask <command> [options]

commands:
  demo                      install what is missing, build mydocker (release),
                            import busybox and run an isolated container (root)
  test [ARGS] [-- ARGS]     build mydocker and busybox.tar, then `cargo test
                            --workspace ARGS -- ARGS` with MYDOCKER_BIN and
                            MYDOCKER_BUSYBOX_TAR set (root)
  bench [--runs N] [--warmup N] [--only mydocker,runc,crun,floor]
                            container start latency: mydocker vs runc vs crun
                            vs a bare unshare+chroot, timed by hyperfine (root)
  busybox-tar [--out PATH] [--force]
                            make a busybox rootfs tarball from busybox-static
                            (default: target/images/busybox.tar)
  vm-cgroup2                resource limits end to end on cgroup v2, in a
                            VM booting Debian's cloud kernel (root, by hand)
  help                      this text
";

fn main() {
    let mut argv = std::env::args().skip(1);
    let command = argv.next().unwrap_or_else(|| "help".to_string());
    let rest: Vec<String> = argv.collect();
    let result = match command.as_str() {
        "demo" => demo::main(Args::new("demo", rest)),
        "test" => suite::main(Args::new("test", rest)),
        "bench" => bench::main(Args::new("bench", rest)),
        "busybox-tar" => busybox::main(Args::new("busybox-tar", rest)),
        "vm-cgroup2" => vm::main(Args::new("vm-cgroup2", rest)),
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => {
            eprint!("xtask: unknown command {other:?}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("xtask {command}: error: {e:#}");
        let code = e
            .downcast_ref::<CommandFailed>()
            .map_or(1, CommandFailed::exit_code);
        std::process::exit(if code == 0 { 1 } else { code });
    }
}
