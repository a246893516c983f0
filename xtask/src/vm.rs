//! `cargo xtask vm-cgroup2`: resource limits end to end on cgroup v2, by
//! hand, in a virtual machine (this project's machines are hybrid: v1
//! controllers, so v2 limits cannot run here otherwise). The machine is
//! emulated (qemu's TCG): nested KVM on these machines cannot run this
//! kernel (an MSR write with `-cpu host`, an emulation failure in the
//! decompressor without it). It boots in seconds all the same.
//!
//! Boots Debian's cloud kernel with an initramfs holding busybox, the
//! release mydocker (with mydocker-monitor and the libraries they link) and
//! busybox.tar; its init (xtask/vm/init) mounts a pure cgroup2 hierarchy and
//! runs run/stats/pause/update/rm -f/OOM/pids/cpuset checks, one `V2 PASS:`
//! or `V2 FAIL:` line each. The VM has no network.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{bail, Context, Result};

use crate::apt;
use crate::args::Args;
use crate::build::{self, Profile};
use crate::busybox;
use crate::util::{cmd, is_root, output, run, workspace_root};

pub fn main(args: Args) -> Result<()> {
    args.finish()?;
    if !is_root() {
        bail!("vm-cgroup2: needs root (apt, and the image import inside the VM)");
    }
    let qemu = apt::ensure_program("qemu-system-x86_64", "qemu-system-x86")?;
    apt::ensure_program("cpio", "cpio")?;
    apt::ensure_program("xz", "xz-utils")?;
    let busybox_bin = busybox::ensure_static()?;
    let tar = busybox::make_tar(None, false)?;
    let mydocker = build::mydocker(Profile::Release)?;

    let dir = workspace_root().join("target/vm");
    let kernel = kernel(&dir.join("kernel"))?;
    let initrd = initramfs(&dir, &busybox_bin, &mydocker, &tar, &kernel.overlay)?;

    println!("\n==> booting {} (emulated, no network)", kernel.vmlinuz.display());
    let out = cmd("timeout")
        .arg("300")
        .arg(&qemu)
        .args(["-accel", "tcg", "-cpu", "max", "-m", "1536", "-smp", "2", "-nographic", "-no-reboot", "-nic", "none"])
        .arg("-kernel")
        .arg(&kernel.vmlinuz)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 quiet panic=-1 rdinit=/init"])
        .stdin(Stdio::null())
        .output()
        .context("running qemu")?;
    let console = String::from_utf8_lossy(&out.stdout);
    for line in console.lines().filter(|l| l.contains("V2 ") || l.starts_with("    ")) {
        println!("{}", line.trim_end_matches('\r'));
    }
    match console.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix("V2 RESULT: ")) {
        Some("0 failed") => {
            println!("\ncgroup v2: every check passed");
            Ok(())
        }
        Some(r) => bail!("cgroup v2: {r}"),
        None => bail!("the VM gave no result (qemu: {}); its console:\n{console}", out.status),
    }
}

struct Kernel {
    vmlinuz: PathBuf,
    overlay: PathBuf,
}

/// Debian's newest cloud kernel package, downloaded and unpacked once.
fn kernel(dir: &Path) -> Result<Kernel> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let unpacked = dir.join("x");
    if !unpacked.join("boot").exists() {
        let list = output(cmd("apt-cache").args(["search", "--names-only", "^linux-image-[0-9].*-cloud-amd64-unsigned$"]))?;
        let mut names: Vec<&str> = list.lines().filter_map(|l| l.split_whitespace().next()).collect();
        names.sort();
        let Some(pkg) = names.last() else { bail!("no linux-image-*-cloud-amd64-unsigned package (run apt-get update)") };
        println!("==> kernel package {pkg}");
        run(cmd("apt-get").args(["download", pkg]).current_dir(dir))?;
        let deb = fs::read_dir(dir)?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().map(|x| x == "deb").unwrap_or(false))
            .context("apt-get download left no .deb")?;
        run(cmd("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    }
    let vmlinuz = fs::read_dir(unpacked.join("boot"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().map(|n| n.to_string_lossy().starts_with("vmlinuz-")).unwrap_or(false))
        .context("no vmlinuz in the kernel package")?;
    let found = output(cmd("find").arg(unpacked.join("lib/modules")).args(["-name", "overlay.ko*"]))?;
    let overlay = PathBuf::from(found.lines().next().context("no overlay module in the kernel package")?);
    Ok(Kernel { vmlinuz, overlay })
}

/// The initramfs: busybox, mydocker and its libraries, the image, the init.
fn initramfs(dir: &Path, busybox_bin: &Path, mydocker: &Path, tar: &Path, overlay: &Path) -> Result<PathBuf> {
    let root = dir.join("initramfs");
    if root.exists() {
        fs::remove_dir_all(&root).with_context(|| format!("removing {}", root.display()))?;
    }
    for d in ["bin", "usr/local/bin", "proc", "sys", "dev", "tmp", "etc"] {
        fs::create_dir_all(root.join(d))?;
    }
    let copy = |from: &Path, to: &Path| -> Result<()> {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        Ok(())
    };
    copy(busybox_bin, &root.join("bin/busybox"))?;
    let monitor = mydocker.with_file_name("mydocker-monitor");
    for bin in [mydocker, monitor.as_path()] {
        copy(bin, &root.join("usr/local/bin").join(bin.file_name().context("a file name")?))?;
        // The libraries it links, at their own paths.
        for line in output(cmd("ldd").arg(bin))?.lines() {
            if let Some(lib) = line.split_whitespace().find(|w| w.starts_with('/')) {
                copy(Path::new(lib), &root.join(lib.trim_start_matches('/')))?;
            }
        }
    }
    copy(tar, &root.join("busybox.tar"))?;
    let init = workspace_root().join("xtask/vm/init");
    copy(&init, &root.join("init"))?;
    run(cmd("chmod").arg("755").arg(root.join("init")))?;
    let ko = root.join("overlay.ko");
    if overlay.extension().map(|e| e == "xz").unwrap_or(false) {
        let out = cmd("xz").arg("-dc").arg(overlay).output().context("running xz")?;
        if !out.status.success() {
            bail!("xz -dc {} failed", overlay.display());
        }
        fs::write(&ko, out.stdout)?;
    } else {
        copy(overlay, &ko)?;
    }
    let initrd = dir.join("initrd.gz");
    let script = format!("cd {} && find . | cpio -o -H newc --quiet | gzip -1 > {}", root.display(), initrd.display());
    run(cmd("sh").args(["-c", &script]))?;
    Ok(initrd)
}
